// Messages between agents and the coordinator: join, heartbeat, and the
// agent's own API. Everything an agent sends is parsed with these schemas
// before the coordinator believes it, and the other way round.
import { z } from "zod";
import { hardwareInfo } from "./hardware.ts";
import { CAPABILITIES } from "./workload.ts";
import { nodeName, poolName } from "./names.ts";
import { assignmentReport, templateName } from "./assignment.ts";

export { NODE_NAME, nodeName, poolName } from "./names.ts";

// The allowed values in the message: zod's own for a union is "Invalid input".
export const tier = z.union([z.literal(0), z.literal(1), z.literal(2)], { error: "must be 0, 1 or 2 (0 fast/small, 1 medium, 2 powerful)" });
export type Tier = z.infer<typeof tier>;

const count = z.int().min(0).max(1_000_000);
const bytes = z.number().int().min(0).max(2 ** 60);

export const slotStatus = z.object({ total: count, busy: count, queued: count }).strict();
export type SlotStatus = z.infer<typeof slotStatus>;

/**
 * What a model file is, as Ollama's clients show it (`/api/tags`, `/api/ps`):
 * read by the agent from the GGUF file's metadata and the file itself. Small,
 * since it travels in every heartbeat; the larger metadata and template are
 * fetched on demand (`modelInfo`). Agentless nodes may say none of it.
 */
export const modelDetails = z
  .object({
    /** `gguf`. */
    format: z.string().min(1).max(32),
    /** general.architecture: `llama`, `qwen2`, … */
    family: z.string().min(1).max(64),
    families: z.array(z.string().min(1).max(64)).max(8),
    /** Ollama's human form of the parameter count: `260K`, `494.03M`, `7.6B`. */
    parameterSize: z.string().min(1).max(32).optional(),
    /** Ollama's names for llama.cpp's file types: `Q4_K_M`, `F16`, `F32`. */
    quantizationLevel: z.string().min(1).max(32).optional(),
    sizeBytes: bytes.optional(),
    /** sha256 of the file, hex; absent until the agent has hashed it (in the background after start). */
    digest: z.string().regex(/^[0-9a-f]{64}$/, "64 lower-case hex digits").optional(),
    /** The file's mtime. */
    modifiedAtMs: z.int().min(0).optional(),
  })
  .strict();
export type ModelDetails = z.infer<typeof modelDetails>;

/** A value of flattened GGUF metadata; arrays (the vocabulary, merges) are left out as null, as Ollama does. */
const metadataValue = z.union([z.string().max(65_536), z.number(), z.boolean(), z.null()]);

/**
 * The larger facts of a model, for Ollama's `/api/show` only: asked of the
 * node when a client shows the model (`GET /agent/v1/models/:id/info`),
 * never carried in heartbeats.
 */
export const modelInfo = z
  .object({
    /** The chat template the model carries (tokenizer.chat_template, Jinja), when it has one. */
    template: z.string().max(1_048_576).optional(),
    /** What the node runs the model with (`num_ctx`, the end-of-text `stop` token), in Ollama's parameter names. */
    parameters: z.record(z.string().max(64), z.union([z.string().max(1024), z.number()])),
    /** Every scalar GGUF metadata key, flattened with dots (`llama.context_length`), plus general.parameter_count. */
    metadata: z.record(z.string().max(256), metadataValue),
  })
  .strict();
export type ModelInfo = z.infer<typeof modelInfo>;

export const servedModel = z
  .object({
    id: z.string().min(1).max(128),
    contextSize: z.int().min(1).max(16_777_216),
    loadedAtMs: z.int().min(0),
    slots: slotStatus,
    /**
     * True when the server did not say its context window (an agentless
     * server whose model list has no such field): `contextSize` is then the
     * window flotilla assumes, not one the node reported.
     */
    contextSizeAssumed: z.boolean().optional(),
    /** What the model can be asked to do. Agents older than this field serve chat only. */
    capabilities: z.array(z.enum(CAPABILITIES)).min(1).max(16).default(["chat"]),
    /** The model file, where the node knows it (agents do; agentless servers may not). */
    details: modelDetails.optional(),
    /**
     * Loaded (absent: loaded, as older agents and agentless servers report),
     * or unloaded after its idle keep-alive, or loading again because a
     * request asked for it: the router sends work only to loaded models and
     * has the others loaded while a request waits (issue 17).
     */
    state: z.enum(["loaded", "loading", "unloaded"]).optional(),
  })
  .strict();
export type ServedModel = z.infer<typeof servedModel>;

/** What an agent reports about its own load, at join and in every heartbeat. */
export const agentLoad = z
  .object({
    models: z.array(servedModel).max(256),
    inFlight: count,
    cpuPercent: z.number().min(0).max(100_000),
    rssBytes: bytes,
    memoryAvailableBytes: bytes,
    agentVersion: z.string().max(64),
    /** The templates this agent's own configuration lists: what a pool may borrow it for (issue 17). */
    templates: z.array(templateName).max(256).optional(),
    /** What it runs for the pool it is lent to; null or absent when it is lent to none. */
    assignment: assignmentReport.nullable().optional(),
  })
  .strict();
export type AgentLoad = z.infer<typeof agentLoad>;

export const joinRequest = z
  .object({
    protocolVersion: z.int().min(1),
    name: nodeName,
    tier,
    pool: poolName,
    /** Where the coordinator reaches the agent's API. */
    agentUrl: z.url({ protocol: /^https?$/ }).max(512),
    hardware: hardwareInfo,
    load: agentLoad,
    /**
     * The credential a node of this name holds, when its agent joins again
     * (e.g. under a new coordinator URL): it proves the name is the agent's own.
     */
    nodeCredential: z.string().min(32).max(256).optional(),
  })
  .strict();
export type JoinRequest = z.infer<typeof joinRequest>;

export const joinResponse = z
  .object({
    nodeId: z.string().min(1).max(64),
    /** The agent's own credential: it sends it to the coordinator from now on. */
    nodeCredential: z.string().min(32).max(256),
    /** What the coordinator will present when it calls the agent. */
    coordinatorCredential: z.string().min(32).max(256),
    heartbeatIntervalMs: z.int().min(100).max(600_000),
  })
  .strict();
export type JoinResponse = z.infer<typeof joinResponse>;

export const heartbeat = z
  .object({
    protocolVersion: z.int().min(1),
    agentUrl: z.url({ protocol: /^https?$/ }).max(512),
    load: agentLoad,
    /** Sent when it changed since the last heartbeat (or at the first one). */
    hardware: hardwareInfo.optional(),
  })
  .strict();
export type Heartbeat = z.infer<typeof heartbeat>;

export const heartbeatResponse = z.object({ heartbeatIntervalMs: z.int().min(100).max(600_000) }).strict();
export type HeartbeatResponse = z.infer<typeof heartbeatResponse>;
