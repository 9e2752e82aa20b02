// The cluster file: what the coordinator is told about the cluster that it
// cannot discover — agentless nodes (an Ollama or OpenAI-compatible server
// with no flotilla agent), routing preferences, and the networks it may call.
// Objects are strict so a misspelt key is an error, not a silent default.
import { z } from "zod";
import { nodeName, poolName, tier } from "@flotilla/protocol";
import { ConfigError, loadConfigFile, validate, type LoadedFile } from "./load-config-file.ts";
import { DEFAULT_ALLOWED_NETWORKS, NetworkAllowlist, checkNodeUrl, cidrProblem } from "./url-policy.ts";
import { DEFAULT_API_KEY_ENV_PREFIXES, apiKeyEnvPrefix, apiKeyEnvProblem } from "./api-key-env.ts";
import { checkPools, poolsSection, roamerSettings, templatesSection } from "./cluster-file-pools.ts";

const cidr = z.string().superRefine((text, ctx) => {
  const problem = cidrProblem(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Secrets are not written in the file: it names the variable that holds one. */
const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "the NAME of an environment variable (letters, digits, '_'), not the token itself");

// YAML reads `vram: 24` as a number and `fast: yes` as a string but `fast:
// true` as a boolean; labels are strings to the router, so scalars are taken
// as written rather than refused.
const labelValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const clusterNode = z
  .object({
    name: nodeName,
    /** Checked against allowedNetworks below; host names are resolved and checked when called. */
    url: z.string().min(1).max(512),
    kind: z.enum(["openai", "ollama"]).default("openai"),
    tier: tier.default(1),
    pool: poolName.default("default"),
    /** Models it serves; the coordinator also asks the server itself. */
    models: z.array(z.string().min(1)).default([]),
    /** Relative share of traffic among equal candidates. */
    weight: z.number().positive().default(1),
    labels: z.record(z.string(), labelValue).default({}),
    /** Name of the environment variable holding this server's bearer token; it must start with one of apiKeyEnvPrefixes. */
    apiKeyEnv: envVarName.optional(),
  })
  .strict();

// In the file, a URL's form is checked with the node's other fields, so a bad
// URL is reported with its other mistakes: the network check (superRefine
// below) runs only once every node parses. The API's own check is unchanged.
const clusterFileNode = clusterNode
  .extend({
    url: clusterNode.shape.url.refine(isHttpUrl, "must be an http:// or https:// URL, like http://192.168.1.20:11434"),
    /**
     * Its speech models (an OpenAI-compatible audio server: Kokoro-FastAPI,
     * speaches, another flotilla): called at /v1/audio/speech (tts) and
     * /v1/audio/transcriptions (stt) instead of being taken for language
     * models (docs/adr/0039). In the file only, for now.
     */
    speech: z
      .strictObject({
        tts: z.array(z.string().min(1).max(128)).max(64).default([]),
        stt: z.array(z.string().min(1).max(128)).max(64).default([]),
      })
      .optional(),
  })
  .refine((node) => node.speech === undefined || node.kind === "openai", {
    message: "speech models are served by OpenAI-compatible servers: set kind: openai",
    path: ["speech"],
  });

function isHttpUrl(text: string): boolean {
  return URL.canParse(text) && /^https?:$/.test(new URL(text).protocol);
}

/** Model ids an agent may serve; `*` matches any run of characters. */
const allowModels = z.array(z.string().min(1).max(256)).max(1_000);

const agentsSection = z
  .object({
    /** For every agent not listed under nodes; absent: any model. */
    allowModels: allowModels.optional(),
    /** Slots per model an agent may report; absent: max(logical cores × 4, 64), at most 1024. */
    maxSlotsPerModel: z.int().min(1).max(100_000).optional(),
    /** Per agent, by the --name it joins with; its allowModels replaces the default. */
    nodes: z.array(z.object({ name: nodeName, allowModels }).strict()).default([]),
  })
  .strict();

/** A duration in milliseconds: at least 1, at most an hour. */
const ms = z.int().min(1).max(3_600_000);
const tierTimeouts = z.object({ connectMs: ms, firstTokenMs: ms, idleMs: ms }).strict().partial();

/**
 * In YAML a key whose entries are all commented out (`routing:` followed only
 * by comments) reads as null; that is an empty section, not an error.
 */
const section = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === null ? undefined : value), schema);

export const clusterFile = z
  .object({
    coordinator: section(z
      .object({
        host: z.string().min(1).optional(),
        port: z.int().min(0).max(65_535).optional(),
        /** mdns: agents on the LAN find the coordinator; explicit: only `--join URL`. */
        discovery: z.enum(["mdns", "explicit"]).default("mdns"),
      })
      .strict()
      .prefault({})),
    routing: section(z
      .object({
        defaultModel: z.string().min(1).optional(),
        preferLocal: z.boolean().optional(),
        /** Resume a stream on another node when its node dies mid-answer, unless a request says otherwise. */
        continueOnFailure: z.boolean().optional(),
        /** Per tier ("0", "1", "2"); what is not set keeps its default (dispatch/timeouts.ts). */
        timeouts: z.object({ 0: tierTimeouts, 1: tierTimeouts, 2: tierTimeouts }).strict().partial().optional(),
        queue: z.object({ maxDepth: z.int().min(0).max(100_000), maxWaitMs: ms }).strict().partial().optional(),
        circuit: z
          .object({ failuresToOpen: z.int().min(1).max(1_000), baseEjectionMs: ms, maxEjectionMs: ms })
          .strict()
          .partial()
          .optional(),
        /** Ask this model, on a tier-0 node, how hard each request is (the heuristic decides when it cannot answer). */
        classifier: z.object({ model: z.string().min(1).max(256), timeoutMs: ms.optional() }).strict().optional(),
        retryBudget: z.object({ ratio: z.number().min(0).max(1), minPerSecond: z.number().min(0).max(10_000) }).strict().partial().optional(),
      })
      .strict()
      .prefault({})),
    allowedNetworks: section(z.array(cidr).min(1).default(() => [...DEFAULT_ALLOWED_NETWORKS])),
    /** The only environment variables an apiKeyEnv may name, here and in `cluster add` (config/api-key-env.ts). */
    apiKeyEnvPrefixes: section(z.array(apiKeyEnvPrefix).min(1).default(() => [...DEFAULT_API_KEY_ENV_PREFIXES])),
    nodes: section(z.array(clusterFileNode).default([])),
    /** What joined agents may claim (nodes/agent/load-limits.ts). */
    agents: section(agentsSection.optional()),
    /** Pools with the kinds of work they take, the templates roamers are lent with, and the autoscaler (docs/adr/0040). */
    pools: section(poolsSection),
    templates: section(templatesSection),
    roamers: section(roamerSettings.prefault({})),
  })
  .strict()
  .superRefine((file, ctx) => {
    checkPools(file, (path, message) => ctx.addIssue({ code: "custom", path, message }));
    const agentNamed = new Map<string, number>();
    file.agents?.nodes.forEach((agent, i) => {
      const first = agentNamed.get(agent.name);
      if (first === undefined) agentNamed.set(agent.name, i);
      else ctx.addIssue({ code: "custom", path: ["agents", "nodes", i, "name"], message: `"${agent.name}" is already the name of agents.nodes[${first}]` });
    });
    const firstWithName = new Map<string, number>();
    file.nodes.forEach((node, i) => {
      const first = firstWithName.get(node.name);
      if (first === undefined) firstWithName.set(node.name, i);
      else ctx.addIssue({ code: "custom", path: ["nodes", i, "name"], message: `"${node.name}" is already the name of nodes[${first}]` });
      const envProblem = node.apiKeyEnv === undefined ? null : apiKeyEnvProblem(node.apiKeyEnv, file.apiKeyEnvPrefixes);
      if (envProblem) ctx.addIssue({ code: "custom", path: ["nodes", i, "apiKeyEnv"], message: envProblem });
    });
    // A bad CIDR is already an issue on its own entry (custom issues do not
    // stop this refinement from running); the URLs cannot be judged without it.
    let allowed: NetworkAllowlist;
    try {
      allowed = NetworkAllowlist.fromCidrs(file.allowedNetworks);
    } catch {
      return;
    }
    file.nodes.forEach((node, i) => {
      const checked = checkNodeUrl(node.url, allowed);
      if (!checked.ok) ctx.addIssue({ code: "custom", path: ["nodes", i, "url"], message: checked.reason });
    });
  });

export type ClusterFile = z.output<typeof clusterFile>;
export type ClusterFileNode = ClusterFile["nodes"][number];

/**
 * A node with its token read from the environment. The token is a secret:
 * log node names and URLs, never a whole node or config object.
 */
export type ClusterNode = ClusterFileNode & { apiKey: string | undefined };
export type ClusterConfig = Omit<ClusterFile, "nodes"> & { nodes: ClusterNode[] };

/** Reads, validates and defaults a cluster file; errors name the field and file:line. */
export async function loadClusterFile(file: string, env: NodeJS.ProcessEnv): Promise<ClusterConfig> {
  const loaded = await loadConfigFile(file);
  const parsed = validate(clusterFile, loaded.data, () => "config file", loaded);
  return resolveApiKeys(parsed, env, loaded);
}

/** A node's bearer token from the variable its apiKeyEnv names; undefined when unset or blank. */
export function tokenFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** Swaps each apiKeyEnv for the value of that variable; a missing one is an error. */
export function resolveApiKeys(parsed: ClusterFile, env: NodeJS.ProcessEnv, loaded?: LoadedFile): ClusterConfig {
  const nodes = parsed.nodes.map((node, i): ClusterNode => {
    if (node.apiKeyEnv === undefined) return { ...node, apiKey: undefined };
    const apiKey = tokenFromEnv(env, node.apiKeyEnv);
    if (apiKey === undefined) {
      const line = loaded?.lineOf(["nodes", i, "apiKeyEnv"]);
      const place = loaded ? ` (from ${loaded.file}${line ? `:${line}` : ""})` : "";
      throw new ConfigError(
        `nodes[${i}].apiKeyEnv: environment variable ${node.apiKeyEnv} is not set; node "${node.name}" needs it for its token${place}`,
      );
    }
    return { ...node, apiKey };
  });
  return { ...parsed, nodes };
}
