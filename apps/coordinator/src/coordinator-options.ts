// What `flotilla up`, `flotilla coordinator` and the tests choose about a
// coordinator. Its own file so that each start-up stage (coordinator-state.ts,
// decision-parts.ts, index.ts) can take the part it reads without importing index.ts.
import type { FastifyBaseLogger } from "fastify";
import type { FailureLimit } from "@flotilla/security/failure-limiter";
import type { HttpLimits } from "@flotilla/security/http-limits";
import type { DiscoveredAgent } from "./discovery/mdns-coordinator.ts";
import type { ClusterFile, ClusterNode } from "./config/cluster-file.ts";
import type { JobsConfig } from "./jobs/job-service.ts";

export interface CoordinatorOptions {
  dataDir: string;
  /** FLOTILLA_ADMIN_KEY, when the environment sets it. */
  adminKeyFromEnv: string | undefined;
  bodyLimitBytes: number;
  /** Header and body timeouts, connections per address; default DEFAULT_HTTP_LIMITS (docs/adr/0023). */
  httpLimits?: Partial<HttpLimits>;
  /** Failed authentications an address may make before it gets 429; default DEFAULT_FAILURE_LIMIT (docs/adr/0022). */
  authFailureLimit?: Partial<FailureLimit>;
  heartbeatIntervalMs: number;
  /** Networks that node URLs may point into (CIDRs); see config/url-policy.ts. */
  allowedNetworks: readonly string[];
  /** Agentless nodes declared in the cluster file, tokens already read (loadClusterFile). */
  clusterNodes?: readonly ClusterNode[];
  /** Where the token of a node added through the API is read (its apiKeyEnv); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The variable names an apiKeyEnv may have (the cluster file's apiKeyEnvPrefixes); default FLOTILLA_NODE_KEY_. */
  apiKeyEnvPrefixes?: readonly string[];
  /** Agents seen on the LAN by mDNS; status lists those that have not joined. */
  discovered?: () => DiscoveredAgent[];
  /** The cluster file's agents section: which models and how many slots joined agents may claim. */
  agents?: ClusterFile["agents"];
  /** The cluster file's pools, templates and roamer settings (docs/adr/0040); none: one pool of everything. */
  pools?: Partial<Pick<ClusterFile, "pools" | "templates" | "roamers">>;
  /** The cluster file's routing section. */
  routing?: Partial<ClusterFile["routing"]>;
  /** FLOTILLA_METRICS_KEY, when the environment sets it: a key that may read /metrics and nothing else. */
  metricsKey?: string | undefined;
  /** How long /cluster/execute keeps a conversation after its last turn; default 30 days (docs/adr/0026). */
  conversationTtlMs?: number;
  /** A client's max_tokens is capped to this; default DEFAULT_MAX_TOKENS_LIMIT (4096). */
  maxTokensLimit?: number;
  /** Where jobs live and how many text jobs run at once (docs/adr/0035); default jobs.db, 4 at once. */
  jobs?: JobsConfig;
  logger: FastifyBaseLogger;
}
