// The admin credential for the cluster API and the CLI: FLOTILLA_ADMIN_KEY
// when set, else generated on first start into the data directory, readable
// only by its owner, so the CLI on the same machine finds it.
import { readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import path from "node:path";
import { writePrivateFile } from "@flotilla/security/private-files";
import { loadOrCreateSecretFile, readSecretFile } from "./secret-file.ts";
import { weakAdminKeyReason } from "./admin-key-strength.ts";
import { originsOf, parseOrigins, renderOrigins } from "./admin-key-scope.ts";

export { belongsTo } from "./admin-key-scope.ts";

export const ADMIN_KEY_FILE = "admin.key";
/** Beside the key: the origins of the coordinator it belongs to, one a line (admin-key-scope.ts). */
export const ADMIN_KEY_ORIGINS_FILE = "admin.key.origins";

export async function loadOrCreateAdminKey(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== "") {
    // The key itself is never part of the message: it would end up in logs.
    const weak = weakAdminKeyReason(fromEnv);
    if (weak !== null) throw new Error(`FLOTILLA_ADMIN_KEY is too weak: ${weak}`);
    return fromEnv;
  }
  return loadOrCreateSecretFile(dataDir, ADMIN_KEY_FILE, "admin");
}

export function readAdminKey(dataDir: string): Promise<string | undefined> {
  return readSecretFile(dataDir, ADMIN_KEY_FILE);
}

/** Records, beside the key, where the coordinator that owns it listens (its --host, and the port it got); called at each start. */
export async function recordAdminKeyOrigins(dataDir: string, host: string, port: number): Promise<void> {
  const interfaces = Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
  await writePrivateFile(path.join(dataDir, ADMIN_KEY_ORIGINS_FILE), renderOrigins(originsOf(host, port, interfaces)));
}

/** The origins the key in `dataDir` may be sent to; empty when none were recorded (no coordinator has started there). */
export async function readAdminKeyOrigins(dataDir: string): Promise<string[]> {
  try {
    return parseOrigins(await readFile(path.join(dataDir, ADMIN_KEY_ORIGINS_FILE), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
