// The agent's workload API: the coordinator posts a workload to
// `/agent/v1/run` and reads newline-delimited JSON events back: chunks while
// it runs, then one result or one error. Both sides parse with these schemas;
// the request body is the `workload` schema itself (workload.ts).
import { z } from "zod";
import { errorCatalogue, type ErrorCode } from "./errors.ts";
import { toolCall, type Chunk, type WorkloadResult } from "./workload.ts";
import { AUDIO_FORMATS } from "./audio.ts";

const count = z.int().min(0).max(100_000_000);
const seconds = z.number().min(0).max(86_400);
const MAX_FAILURE_MESSAGE = 4096;
const MAX_FAILURE_PARAM = 256;

const errorCode = z.enum(Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]]);

const chunkSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string(), tokens: count.optional() }).strict(),
  z.object({ type: z.literal("tool_call"), index: z.int().min(0).max(127), id: z.string().min(1).max(256).optional(), name: z.string().min(1).max(64).optional(), argumentsDelta: z.string() }).strict(),
  z.object({ type: z.literal("audio"), format: z.string().max(32), dataBase64: z.string() }).strict(),
  z.object({ type: z.literal("progress"), fraction: z.number().min(0).max(1), message: z.string().max(4096) }).strict(),
  z.object({ type: z.literal("usage"), promptTokens: count, completionTokens: count }).strict(),
  z.object({ type: z.literal("error"), code: errorCode, message: z.string().max(4096) }).strict(),
]);

const resultSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("generation"),
      text: z.string(),
      finishReason: z.enum(["stop", "length", "tool_calls"]),
      toolCalls: z.array(toolCall).max(128).optional(),
      promptTokens: count,
      completionTokens: count,
    })
    .strict(),
  z.object({ kind: z.literal("embedding"), vectors: z.array(z.array(z.number())), promptTokens: count }).strict(),
  z
    .object({ kind: z.literal("speech"), format: z.enum(AUDIO_FORMATS), audioBase64: z.string(), sampleRate: count, durationS: seconds })
    .strict(),
  z
    .object({
      kind: z.literal("transcription"),
      text: z.string().max(1_048_576),
      language: z.string().max(16),
      durationS: seconds,
      segments: z.array(z.object({ startS: seconds, endS: seconds, text: z.string().max(65_536) }).strict()).max(100_000),
      words: z.array(z.object({ startS: seconds, endS: seconds, word: z.string().max(256) }).strict()).max(1_000_000),
    })
    .strict(),
]);

export const agentEvent = z.discriminatedUnion("event", [
  z.object({ event: z.literal("chunk"), chunk: chunkSchema }).strict(),
  z.object({ event: z.literal("result"), result: resultSchema }).strict(),
  z
    .object({
      event: z.literal("failed"),
      code: errorCode,
      message: z.string().max(MAX_FAILURE_MESSAGE),
      param: z.string().max(MAX_FAILURE_PARAM).nullable(),
      retryAfterS: z.int().min(0).max(3600).optional(),
    })
    .strict(),
]);
export type AgentEvent = z.infer<typeof agentEvent>;

/** The events the agent writes; typed from the domain types so the two cannot drift apart. */
export function chunkEvent(chunk: Chunk): AgentEvent {
  return { event: "chunk", chunk };
}

/**
 * A failure as the agent reports it, cut to what the event may carry: a
 * message or a param built from a client's input (a schema's path, a
 * value) can be any length, and an event over the bounds would reach the
 * coordinator as a malformed event from a broken node, not as the client's error.
 */
export function failedEvent(failure: { code: ErrorCode; message: string; param: string | null; retryAfterS?: number | undefined }): AgentEvent {
  return {
    event: "failed",
    code: failure.code,
    message: cut(failure.message, MAX_FAILURE_MESSAGE),
    param: failure.param === null ? null : cut(failure.param, MAX_FAILURE_PARAM),
    ...(failure.retryAfterS === undefined ? {} : { retryAfterS: failure.retryAfterS }),
  };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function resultEvent(result: WorkloadResult): AgentEvent {
  // A generation result carries the text already sent as chunks: it is not repeated on the wire.
  return { event: "result", result: result.kind === "generation" ? { ...result, text: "" } : result };
}
