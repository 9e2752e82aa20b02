// Start-up stage (a): the state the coordinator decides on. The data
// directory, the store, the keys, and the nodes it already knows: joined
// agents, then agentless ones. Nothing here runs in the background yet; the
// agentless health checks are handed back to be started last, in index.ts.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Agent as HttpAgent } from "undici";
import { NodeRegistry } from "./nodes/node-registry.ts";
import { LocalNodes } from "./nodes/local/local-nodes.ts";
import { healthPolicy } from "./nodes/node-health.ts";
import { Membership } from "./nodes/agent/membership.ts";
import { AgentlessNodes } from "./nodes/agentless/agentless-nodes.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import type { Store } from "./store/store.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import { loadOrCreateAdminKey } from "./auth/admin-key.ts";
import { loadOrCreateSecretFile } from "./auth/secret-file.ts";
import { NetworkAllowlist, checkedLookup, resolveAndCheckNodeUrl } from "./config/url-policy.ts";
import type { CoordinatorOptions } from "./coordinator-options.ts";

export interface CoordinatorState {
  store: Store;
  apiKeys: ApiKeys;
  adminKey: string;
  registry: NodeRegistry;
  /** The one keep-alive pool for every call to a node. */
  connections: HttpAgent;
  membership: Membership;
  agentless: AgentlessNodes;
  /** The nodes in this process (`flotilla up`). */
  local: LocalNodes;
}

export type StateOptions = Pick<
  CoordinatorOptions,
  "dataDir" | "adminKeyFromEnv" | "heartbeatIntervalMs" | "allowedNetworks" | "clusterNodes" | "env" | "logger"
>;

export async function prepareState(options: StateOptions): Promise<CoordinatorState> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(path.join(options.dataDir, "flotilla.db"));
  const apiKeys = await ApiKeys.load(store.apiKeys);
  const adminKey = await loadOrCreateAdminKey(options.dataDir, options.adminKeyFromEnv);
  const clusterSecret = await loadOrCreateSecretFile(options.dataDir, "cluster.key", "cluster");
  const registry = new NodeRegistry();
  const allowlist = NetworkAllowlist.fromCidrs(options.allowedNetworks);
  // Its lookup re-checks every address a host name resolves to at connect
  // time, so a name that passed at registration cannot later be pointed
  // elsewhere (DNS rebinding).
  const connections = new HttpAgent({
    keepAliveTimeout: 30_000,
    connect: { timeout: 5_000, lookup: checkedLookup(allowlist) },
  });
  /** Null when a node URL may be called, else why not (ADR 0011). */
  const checkUrl = async (url: string): Promise<string | null> => {
    const checked = await resolveAndCheckNodeUrl(url, allowlist);
    return checked.ok ? null : checked.reason;
  };
  const policy = healthPolicy(options.heartbeatIntervalMs);
  const membership = await Membership.load({
    nodes: store.nodes,
    joinTokens: store.joinTokens,
    registry,
    clusterSecret,
    policy,
    dispatcher: connections,
    checkAgentUrl: checkUrl,
    nowMs: Date.now,
  });
  const agentless = await AgentlessNodes.load(
    {
      records: store.agentlessNodes,
      registry,
      policy,
      dispatcher: connections,
      checkUrl,
      env: options.env ?? process.env,
      nowMs: Date.now,
      warn: (message) => options.logger.warn(message),
    },
    options.clusterNodes ?? [],
  );
  const local = new LocalNodes(registry);
  return { store, apiKeys, adminKey, registry, connections, membership, agentless, local };
}
