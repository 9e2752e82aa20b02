// Messages between agents and the coordinator: join, heartbeat, and the
// agent's own API. Everything an agent sends is parsed with these schemas
// before the coordinator believes it, and the other way round.
import { z } from "zod";
import { hardwareInfo } from "./hardware.ts";
import { errorCatalogue, type ErrorCode } from "./errors.ts";
import type { GenerationRequest, GenerationResult } from "./generation.ts";

export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const nodeName = z.string().regex(NODE_NAME, "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
export const tier = z.union([z.literal(0), z.literal(1), z.literal(2)]);
export type Tier = z.infer<typeof tier>;
export const poolName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "1-32 lower-case letters, digits, '_' or '-'");

const count = z.int().min(0).max(1_000_000);
const bytes = z.number().int().min(0).max(2 ** 60);

export const slotStatus = z.object({ total: count, busy: count, queued: count }).strict();
export type SlotStatus = z.infer<typeof slotStatus>;

export const servedModel = z
  .object({
    id: z.string().min(1).max(128),
    contextSize: z.int().min(1).max(16_777_216),
    loadedAtMs: z.int().min(0),
    slots: slotStatus,
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

// The agent's generation API: the coordinator posts a GenerationRequest and
// reads newline-delimited JSON events back.

export const generationRequest = z
  .object({
    model: z.string().min(1).max(256),
    input: z.discriminatedUnion("kind", [
      z.object({
        kind: z.literal("chat"),
        messages: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }).strict()).min(1),
      }).strict(),
      z.object({ kind: z.literal("completion"), prompt: z.string() }).strict(),
    ]),
    params: z
      .object({
        maxTokens: z.int().min(1).optional(),
        temperature: z.number().min(0).max(2).optional(),
        topP: z.number().gt(0).max(1).optional(),
        seed: z.int().optional(),
        stop: z.array(z.string().min(1)).max(4),
        presencePenalty: z.number().min(-2).max(2).optional(),
        frequencyPenalty: z.number().min(-2).max(2).optional(),
      })
      .strict(),
  })
  .strict();

/** JSON drops `undefined`; restore the explicit shape GenerationRequest has. */
export function toGenerationRequest(wire: z.infer<typeof generationRequest>): GenerationRequest {
  const p = wire.params;
  return {
    model: wire.model,
    input: wire.input,
    params: {
      maxTokens: p.maxTokens,
      temperature: p.temperature,
      topP: p.topP,
      seed: p.seed,
      stop: p.stop,
      presencePenalty: p.presencePenalty,
      frequencyPenalty: p.frequencyPenalty,
    },
  };
}

const errorCode = z.enum(Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]]);

export const agentEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }).strict(),
  z
    .object({
      type: z.literal("result"),
      finishReason: z.enum(["stop", "length"]),
      promptTokens: count,
      completionTokens: count,
    })
    .strict(),
  z
    .object({
      type: z.literal("error"),
      code: errorCode,
      message: z.string().max(4096),
      param: z.string().max(256).nullable(),
      retryAfterS: z.int().min(0).max(3600).optional(),
    })
    .strict(),
]);
export type AgentEvent = z.infer<typeof agentEvent>;

export function resultEvent(result: GenerationResult): AgentEvent {
  return {
    type: "result",
    finishReason: result.finishReason,
    promptTokens: result.promptTokens,
    completionTokens: result.completionTokens,
  };
}

/** What `POST /cluster/nodes/{name}/test` answers (`flotilla cluster test`). */
export interface NodeTestResult {
  node: string;
  model: string;
  /** Until the first piece of text arrived; null when none did. */
  firstTokenMs: number | null;
  totalMs: number;
  completionTokens: number;
  tokensPerSecond: number;
}
