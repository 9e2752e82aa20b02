// Settings of `flotilla up`, parsed once at start-up into a typed object.
// Precedence: command-line flags > FLOTILLA_* environment > config file >
// defaults. Units are in the names.
import { availableParallelism, homedir, hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_MAX_TOKENS_LIMIT, nodeName, poolName, tier } from "@flotilla/protocol";
import { DEFAULT_FAILURE_LIMIT, type FailureLimit } from "@flotilla/security/failure-limiter";
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "@flotilla/security/http-limits";
import { workloadTemplates } from "@flotilla/agent/templates";
import { DEFAULT_ALLOWED_NETWORKS, loadClusterFile, loadConfigFile, validate, type LoadedFile } from "@flotilla/coordinator/config";
import { DURATION_HINT, durationMs } from "../option-parsers.ts";

/** Whole numbers may come as strings from flags and the environment. */
const int = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.int().min(min).max(max));

/** A duration as flags and files write it ("30d", "12h") or in milliseconds. */
const duration = (minMs: number, maxMs: number) =>
  z.preprocess((v) => (typeof v === "string" ? (durationMs(v) ?? v) : v), z.int({ error: DURATION_HINT }).min(minMs).max(maxMs));

export const upConfigSchema = z.object({
  host: z.string().min(1),
  port: int(0, 65_535),
  dataDir: z.string().min(1),
  models: z.array(z.string().min(1)),
  nodeName,
  threads: int(1, 1024),
  slots: int(1, 256),
  contextSize: int(64, 1_048_576),
  maxQueued: int(0, 100_000),
  queueWaitMs: int(0, 3_600_000),
  bodyLimitBytes: int(1024, 1024 * 1024 * 1024),
  /** Time a client has to send a request's head, then the whole request (docs/adr/0023); a streamed answer is not limited. */
  headersTimeoutMs: int(100, 3_600_000),
  bodyTimeoutMs: int(100, 3_600_000),
  /** Connections one address (an IPv6 /64) may hold open at once. */
  maxConnectionsPerIp: int(1, 1_000_000),
  /** Request bodies being received at once, all connections together (docs/adr/0033): at least one body of bodyLimitBytes. */
  maxBodyBytesInFlight: int(1024, 64 * 1024 * 1024 * 1024),
  /** Failed authentications an address may make in authFailureWindowMs before it gets 429 (docs/adr/0022). */
  authFailureLimit: int(1, 1_000_000),
  authFailureWindowMs: int(100, 86_400_000),
  /** A client's max_tokens is capped to this (ADR 0017). */
  maxTokensLimit: int(1, 1_000_000),
  gpu: z.enum(["auto", "off", "cuda", "vulkan", "metal"]),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  hfEndpoint: z.url({ protocol: /^https?$/ }),
  heartbeatIntervalMs: int(100, 600_000),
  /** How long /cluster/execute keeps a conversation after its last turn: a minute to ten years. */
  conversationTtl: duration(60_000, 10 * 365 * 86_400_000),
  tier: z.preprocess((v) => (typeof v === "string" && /^\s*\d\s*$/.test(v) ? Number(v) : v), tier),
  pool: poolName,
  /** Networks a node's URL may be in: the coordinator calls nothing else. */
  allowedNetworks: z.array(z.string().min(1)).min(1),
  /** The cluster file (agentless nodes, allowed networks); see the coordinator's config/cluster-file.ts. */
  clusterFile: z.string().min(1).optional(),
  /** Where jobs live: `embedded` (jobs.db in the data directory) or a Redis URL for BullMQ (docs/adr/0034). */
  queue: z.union([z.literal("embedded"), z.url({ protocol: /^rediss?$/, error: "embedded, or a redis://HOST:PORT URL" })]),
  /** Text jobs this coordinator runs at once. */
  jobConcurrency: int(1, 1024),
  /** Serve the built-in speech engines (espeak-ng, pocketsphinx) as models, as found on this machine. */
  /** How long a --model model stays loaded with no request before it is unloaded (and loaded again on demand); "forever": never unloaded. */
  keepAlive: z.union([z.literal("forever"), duration(1_000, 30 * 86_400_000)]),
  speech: z.preprocess((v) => (v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : v), z.boolean()),
  /** mdns: announce and browse on the LAN; explicit: only --join URLs and the cluster file. */
  discovery: z.enum(["mdns", "explicit"]),
  /** The interface address mDNS uses ("" = every interface). */
  mdnsInterface: z.union([z.literal(""), z.ipv4(), z.ipv6()]),
  /** The mDNS UDP port: 5353 on a real LAN; tests use a private one. */
  mdnsPort: int(1, 65_535),
  /**
   * What a coordinator may lend this agent for (issue 17): template name →
   * what to run. Config file only: a template is its owner's decision, never
   * a flag a service manager or a coordinator could pass.
   */
  templates: workloadTemplates,
}).strict().refine((c) => c.headersTimeoutMs <= c.bodyTimeoutMs, {
  // Node refuses a head timeout longer than the whole request's.
  path: ["headersTimeoutMs"],
  message: "must not be longer than bodyTimeoutMs (the whole request, head included)",
}).refine((c) => c.maxBodyBytesInFlight >= c.bodyLimitBytes, {
  // Else a body at the limit could never be taken.
  path: ["maxBodyBytesInFlight"],
  message: "must be at least bodyLimitBytes (one body at the limit)",
});

export type UpConfig = z.infer<typeof upConfigSchema>;
export type { WorkloadTemplate, WorkloadTemplates } from "@flotilla/agent/templates";

export function defaultUpConfig(env: NodeJS.ProcessEnv): UpConfig {
  return {
    host: "127.0.0.1",
    port: 8080,
    dataDir: defaultDataDir(env),
    models: [],
    nodeName: hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63) || "local",
    // Leave a core to the gateway and the OS: llama.cpp's threads spin.
    threads: Math.max(1, availableParallelism() - 1),
    slots: 4,
    contextSize: 4096,
    maxQueued: 64,
    queueWaitMs: 30_000,
    bodyLimitBytes: 4 * 1024 * 1024,
    ...httpLimitDefaults(),
    maxTokensLimit: DEFAULT_MAX_TOKENS_LIMIT,
    gpu: "auto",
    logLevel: "info",
    hfEndpoint: "https://huggingface.co",
    heartbeatIntervalMs: 5_000,
    conversationTtl: 30 * 86_400_000,
    // The middle tier until the user says otherwise: tiers are declared, never guessed.
    tier: 1,
    pool: "default",
    allowedNetworks: [...DEFAULT_ALLOWED_NETWORKS],
    queue: "embedded",
    jobConcurrency: 4,
    keepAlive: "forever",
    speech: false,
    discovery: "mdns",
    mdnsInterface: "",
    mdnsPort: 5353,
    templates: {},
  };
}

function httpLimitDefaults(): Pick<UpConfig, "headersTimeoutMs" | "bodyTimeoutMs" | "maxConnectionsPerIp" | "maxBodyBytesInFlight" | "authFailureLimit" | "authFailureWindowMs"> {
  return {
    ...DEFAULT_HTTP_LIMITS,
    authFailureLimit: DEFAULT_FAILURE_LIMIT.maxFailures,
    authFailureWindowMs: DEFAULT_FAILURE_LIMIT.windowMs,
  };
}

/** The HTTP limits of a coordinator or an agent, from the settings. */
export function httpLimitsOf(config: UpConfig): { httpLimits: HttpLimits; authFailureLimit: FailureLimit } {
  return {
    httpLimits: {
      headersTimeoutMs: config.headersTimeoutMs,
      bodyTimeoutMs: config.bodyTimeoutMs,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      maxBodyBytesInFlight: config.maxBodyBytesInFlight,
    },
    authFailureLimit: { maxFailures: config.authFailureLimit, windowMs: config.authFailureWindowMs },
  };
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return env.FLOTILLA_DATA_DIR || path.join(homedir(), ".flotilla");
}

/** FLOTILLA_* variables that map to settings. */
const ENV: Record<string, keyof UpConfig> = {
  FLOTILLA_HOST: "host",
  FLOTILLA_PORT: "port",
  FLOTILLA_DATA_DIR: "dataDir",
  FLOTILLA_THREADS: "threads",
  FLOTILLA_SLOTS: "slots",
  FLOTILLA_MAX_TOKENS_LIMIT: "maxTokensLimit",
  FLOTILLA_GPU: "gpu",
  FLOTILLA_LOG_LEVEL: "logLevel",
  HF_ENDPOINT: "hfEndpoint",
  FLOTILLA_HEARTBEAT_INTERVAL_MS: "heartbeatIntervalMs",
  FLOTILLA_CONVERSATION_TTL: "conversationTtl",
  FLOTILLA_CLUSTER_FILE: "clusterFile",
  FLOTILLA_DISCOVERY: "discovery",
  FLOTILLA_QUEUE: "queue",
  FLOTILLA_SPEECH: "speech",
  FLOTILLA_KEEP_ALIVE: "keepAlive",
  FLOTILLA_MDNS_INTERFACE: "mdnsInterface",
  FLOTILLA_MDNS_PORT: "mdnsPort",
  FLOTILLA_MAX_CONNECTIONS_PER_IP: "maxConnectionsPerIp",
  FLOTILLA_MAX_BODY_BYTES_IN_FLIGHT: "maxBodyBytesInFlight",
};

export async function resolveUpConfig(
  flags: Partial<Record<keyof UpConfig, unknown>>,
  configFile: string | undefined,
  env: NodeJS.ProcessEnv,
  /** Defaults that differ by command (an agent listens on 8081). */
  commandDefaults: Partial<UpConfig> = {},
): Promise<UpConfig> {
  const file: LoadedFile | undefined = configFile ? await loadConfigFile(configFile) : undefined;
  const origins = new Map<string, string>();
  const merged: Record<string, unknown> = { ...defaultUpConfig(env), ...commandDefaults };
  const layer = (values: Record<string, unknown>, origin: string) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      merged[key] = value;
      origins.set(key, origin);
    }
  };
  // The cluster file's `coordinator` section (host, port, discovery) sits
  // below this process's own settings: the cluster file describes the
  // cluster; --config, the environment and flags refine this one process.
  const clusterPath = flags.clusterFile ?? env.FLOTILLA_CLUSTER_FILE ?? file?.data.clusterFile;
  if (typeof clusterPath === "string" && clusterPath !== "") {
    const cluster = await loadClusterFile(clusterPath, env);
    layer({ host: cluster.coordinator.host, port: cluster.coordinator.port, discovery: cluster.coordinator.discovery }, "cluster file");
  }
  if (file) layer(file.data, "config file");
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== "") fromEnv[key] = value;
  }
  layer(fromEnv, "environment");
  layer(flags, "command line");
  return validate(upConfigSchema, merged, (key) => origins.get(key) ?? "defaults", file);
}
