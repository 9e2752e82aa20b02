// The coordinator as a library: `flotilla up` and `flotilla coordinator` both
// build it here; tests build it in-process.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { NodeRegistry } from "./registry/node-registry.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import { loadOrCreateAdminKey } from "./auth/admin-key.ts";
import { buildGateway } from "./gateway/app.ts";

export { NodeRegistry } from "./registry/node-registry.ts";
export { ADMIN_KEY_FILE, readAdminKey } from "./auth/admin-key.ts";

export interface CoordinatorOptions {
  dataDir: string;
  /** FLOTILLA_ADMIN_KEY, when the environment sets it. */
  adminKeyFromEnv: string | undefined;
  bodyLimitBytes: number;
  logger: FastifyBaseLogger;
}

export interface Coordinator {
  app: FastifyInstance;
  registry: NodeRegistry;
  close(): Promise<void>;
}

export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(path.join(options.dataDir, "flotilla.db"));
  const apiKeys = await ApiKeys.load(store);
  const adminKey = await loadOrCreateAdminKey(options.dataDir, options.adminKeyFromEnv);
  const registry = new NodeRegistry();
  const app = buildGateway({
    registry,
    apiKeys,
    adminKey,
    bodyLimitBytes: options.bodyLimitBytes,
    logger: options.logger,
  });
  return {
    app,
    registry,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
