// What `flotilla up`, `flotilla coordinator` and the tests choose about a
// coordinator. Its own file so that each start-up stage (coordinator-state.ts,
// decision-parts.ts, index.ts) can take the part it reads without importing index.ts.
import type { FastifyBaseLogger } from "fastify";
import type { DiscoveredAgent } from "./discovery/mdns-coordinator.ts";
import type { ClusterFile, ClusterNode } from "./config/cluster-file.ts";

export interface CoordinatorOptions {
  dataDir: string;
  /** FLOTILLA_ADMIN_KEY, when the environment sets it. */
  adminKeyFromEnv: string | undefined;
  bodyLimitBytes: number;
  heartbeatIntervalMs: number;
  /** Networks that node URLs may point into (CIDRs); see config/url-policy.ts. */
  allowedNetworks: readonly string[];
  /** Agentless nodes declared in the cluster file, tokens already read (loadClusterFile). */
  clusterNodes?: readonly ClusterNode[];
  /** Where the token of a node added through the API is read (its apiKeyEnv); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Agents seen on the LAN by mDNS; status lists those that have not joined. */
  discovered?: () => DiscoveredAgent[];
  /** The cluster file's routing section. */
  routing?: Partial<ClusterFile["routing"]>;
  /** FLOTILLA_METRICS_KEY, when the environment sets it: a key that may read /metrics and nothing else. */
  metricsKey?: string | undefined;
  /** A client's max_tokens is capped to this; default DEFAULT_MAX_TOKENS_LIMIT (4096). */
  maxTokensLimit?: number;
  logger: FastifyBaseLogger;
}
