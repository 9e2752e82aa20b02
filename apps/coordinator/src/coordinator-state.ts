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
import { limitsFor } from "./nodes/agent/load-limits.ts";
import { AgentlessNodes } from "./nodes/agentless/agentless-nodes.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import { lockDataDir, type DataDirLock } from "./store/data-dir-lock.ts";
import type { Store } from "./store/store.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import { loadOrCreateAdminKey } from "./auth/admin-key.ts";
import { loadOrCreateSecretFile } from "./auth/secret-file.ts";
import { NetworkAllowlist, checkedLookup, resolveAndCheckNodeUrl } from "./config/url-policy.ts";
import { DEFAULT_API_KEY_ENV_PREFIXES } from "./config/api-key-env.ts";
import { warnIfExposedDirectory } from "@flotilla/security/private-files";
import type { CoordinatorOptions } from "./coordinator-options.ts";

export interface CoordinatorState {
  /** Held until close(): no second coordinator on the same data directory. */
  dataDirLock: DataDirLock;
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
  /** Null when a URL may be called (a node's, a webhook's), else why not (ADR 0011). */
  checkUrl: (url: string) => Promise<string | null>;
  /** The same, saying apart a name that does not resolve now (which may later) from a refusal. */
  checkUrlNow: (url: string) => Promise<UrlVerdict>;
}

/** A URL's standing under the policy now: allowed, refused, or its name not resolving (try again later). */
export type UrlVerdict = { ok: true } | { ok: false; reason: string; unresolved?: true };

export type StateOptions = Pick<
  CoordinatorOptions,
  "dataDir" | "adminKeyFromEnv" | "heartbeatIntervalMs" | "allowedNetworks" | "clusterNodes" | "env" | "apiKeyEnvPrefixes" | "agents" | "logger"
>;

export async function prepareState(options: StateOptions): Promise<CoordinatorState> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  // mkdir's mode is for a directory it creates; one that was there keeps its own.
  await warnIfExposedDirectory(options.dataDir, (message) => options.logger.warn(message));
  const dataDirLock = await lockDataDir(options.dataDir);
  try {
    return await prepareLockedState(options, dataDirLock);
  } catch (err) {
    await dataDirLock.release();
    throw err;
  }
}

async function prepareLockedState(options: StateOptions, dataDirLock: DataDirLock): Promise<CoordinatorState> {
  // Before the store is opened: a refused admin key leaves nothing behind.
  const adminKey = await loadOrCreateAdminKey(options.dataDir, options.adminKeyFromEnv);
  const store = new SqliteStore(path.join(options.dataDir, "flotilla.db"));
  const apiKeys = await ApiKeys.load(store.apiKeys);
  const clusterSecret = await loadOrCreateSecretFile(options.dataDir, "cluster.key", "cluster");
  const registry = new NodeRegistry();
  const allowlist = NetworkAllowlist.fromCidrs(options.allowedNetworks);
  // Its lookup re-checks every address a host name resolves to at connect
  // time, so a name that passed at registration cannot later be pointed
  // elsewhere (DNS rebinding).
  const connections = new HttpAgent({
    keepAliveTimeout: 30_000,
    // undici's own 300 s limits would cut a long transcription, which sends
    // nothing until its whole answer: the dispatcher's per-tier timeouts
    // (dispatch/try-node.ts) are the limits; these only catch what they miss.
    headersTimeout: 15 * 60_000,
    bodyTimeout: 15 * 60_000,
    connect: { timeout: 5_000, lookup: checkedLookup(allowlist) },
  });
  /** Null when a node URL may be called, else why not (ADR 0011). */
  const checkUrlNow = async (url: string): Promise<UrlVerdict> => {
    const checked = await resolveAndCheckNodeUrl(url, allowlist);
    if (checked.ok) return { ok: true };
    return checked.unresolved === true ? { ok: false, unresolved: true, reason: checked.reason } : { ok: false, reason: checked.reason };
  };
  const checkUrl = async (url: string): Promise<string | null> => {
    const verdict = await checkUrlNow(url);
    return verdict.ok ? null : verdict.reason;
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
    limitsFor: (name) => limitsFor(options.agents, name),
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
      apiKeyEnvPrefixes: options.apiKeyEnvPrefixes ?? DEFAULT_API_KEY_ENV_PREFIXES,
      nowMs: Date.now,
      warn: (message) => options.logger.warn(message),
    },
    options.clusterNodes ?? [],
  );
  const local = new LocalNodes(registry);
  return { dataDirLock, store, apiKeys, adminKey, registry, connections, membership, agentless, local, checkUrl, checkUrlNow };
}
