// The agent's workload API: the coordinator posts a workload to
// `/agent/v1/run` and reads newline-delimited JSON events back: chunks while
// it runs, then one result or one error. Both sides parse with these schemas.
import { z } from "zod";
import { errorCatalogue, type ErrorCode } from "./errors.ts";
import type { Chunk, Workload, WorkloadResult } from "./workload.ts";

const count = z.int().min(0).max(100_000_000);

const params = z
  .object({
    maxTokens: z.int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    seed: z.int().optional(),
    stop: z.array(z.string().min(1)).max(4),
    presencePenalty: z.number().min(-2).max(2).optional(),
    frequencyPenalty: z.number().min(-2).max(2).optional(),
  })
  .strict();

const model = z.string().min(1).max(256);
const turn = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }).strict();

/** Matches the embedding route's own limits (openai.ts): 2048 items. */
const embeddingItem = z.union([z.string(), z.array(z.int().min(0).max(10_000_000)).min(1)]);

export const workloadWire = z.union([
  z.object({ model, input: z.object({ kind: z.literal("chat"), messages: z.array(turn).min(1) }).strict(), params }).strict(),
  z.object({ model, input: z.object({ kind: z.literal("completion"), prompt: z.string() }).strict(), params }).strict(),
  z
    .object({
      model,
      input: z
        .object({ kind: z.literal("embedding"), items: z.array(embeddingItem).min(1).max(2048), dimensions: z.int().min(1).max(65_536).optional() })
        .strict(),
    })
    .strict(),
]);

/** JSON drops `undefined`; restore the explicit shape the Workload types have. */
export function toWorkload(wire: z.infer<typeof workloadWire>): Workload {
  if (wire.input.kind === "embedding") {
    return { model: wire.model, input: { kind: "embedding", items: wire.input.items, dimensions: wire.input.dimensions } };
  }
  const p = "params" in wire ? wire.params : { stop: [] };
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

const chunkSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string(), tokens: count.optional() }).strict(),
  z.object({ type: z.literal("tool_call"), index: count, id: z.string().max(256), name: z.string().max(256), argumentsDelta: z.string() }).strict(),
  z.object({ type: z.literal("audio"), format: z.string().max(32), dataBase64: z.string() }).strict(),
  z.object({ type: z.literal("progress"), fraction: z.number().min(0).max(1), message: z.string().max(4096) }).strict(),
  z.object({ type: z.literal("usage"), promptTokens: count, completionTokens: count }).strict(),
  z.object({ type: z.literal("error"), code: errorCode, message: z.string().max(4096) }).strict(),
]);

const resultSchema = z.discriminatedUnion("kind", [
  z
    .object({ kind: z.literal("generation"), text: z.string(), finishReason: z.enum(["stop", "length"]), promptTokens: count, completionTokens: count })
    .strict(),
  z.object({ kind: z.literal("embedding"), vectors: z.array(z.array(z.number())), promptTokens: count }).strict(),
]);

export const agentEvent = z.discriminatedUnion("event", [
  z.object({ event: z.literal("chunk"), chunk: chunkSchema }).strict(),
  z.object({ event: z.literal("result"), result: resultSchema }).strict(),
  z
    .object({
      event: z.literal("failed"),
      code: errorCode,
      message: z.string().max(4096),
      param: z.string().max(256).nullable(),
      retryAfterS: z.int().min(0).max(3600).optional(),
    })
    .strict(),
]);
export type AgentEvent = z.infer<typeof agentEvent>;

/** The events the agent writes; typed from the domain types so the two cannot drift apart. */
export function chunkEvent(chunk: Chunk): AgentEvent {
  return { event: "chunk", chunk };
}

export function resultEvent(result: WorkloadResult): AgentEvent {
  // A generation result carries the text already sent as chunks: it is not repeated on the wire.
  return { event: "result", result: result.kind === "generation" ? { ...result, text: "" } : result };
}
