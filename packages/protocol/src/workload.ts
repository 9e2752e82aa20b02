// One data path for every kind of work (ADR 0017): a request is a workload,
// what flows back while it runs is a stream of chunks, and what it ends with
// is a result of the same kind. The gateway translates each API's body into
// a workload once; the router, the dispatcher and every kind of node handle
// all workloads alike. A new kind of work is a new member of these unions
// (and a backend that serves it), not a new path through the coordinator.
//
// The tag of a workload is `input.kind`, so that the generation kinds (chat,
// completion) share their sampling parameters and everything that reads a
// prompt (classifier, token estimate, continuation) keeps reading `input`.
import { z } from "zod";
import type { ErrorCode } from "./errors.ts";
import { AUDIO_FORMATS, type AudioFormat } from "./audio.ts";

/**
 * What a model can be asked to do; nodes advertise these per model. `chat`
 * covers both generation kinds (chat and text completion); `tools` is chat
 * with function calling and `json` is output held to a JSON schema. Both
 * are constrained decoding, so a model that advertises `tools` also honours
 * `json` (a request that needs both is routed by `tools`). `tts` and `stt`
 * are speech engines (text to speech, speech to text); room for `image`.
 */
export const CAPABILITIES = ["chat", "embed", "tools", "json", "tts", "stt"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * A JSON Schema as a client wrote it: an object, bounded in size and depth
 * so that walking it cannot exhaust anything. What a node can enforce of it
 * is the node's to say (llama.cpp: agents/backends/grammar-schema.ts).
 */
const MAX_SCHEMA_CHARS = 65_536;
const MAX_SCHEMA_DEPTH = 32;
export const jsonSchema = z.record(z.string(), z.unknown()).check((ctx) => {
  // Depth first, without recursion: a value nested 50,000 deep (JSON.parse
  // takes it) would overflow the stack of a recursive walk, and of JSON.stringify.
  if (deeperThan(ctx.value, MAX_SCHEMA_DEPTH)) {
    ctx.issues.push({ code: "custom", message: `a schema may nest at most ${MAX_SCHEMA_DEPTH} levels deep`, input: ctx.value });
    return;
  }
  const size = JSON.stringify(ctx.value).length;
  if (size > MAX_SCHEMA_CHARS) ctx.issues.push({ code: "custom", message: `a schema may have at most ${MAX_SCHEMA_CHARS} characters, this one has ${size}`, input: ctx.value });
});
export type JsonSchema = z.infer<typeof jsonSchema>;

function deeperThan(root: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, depth] = next;
    if (typeof value !== "object" || value === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

/** OpenAI's own rule for function names. */
export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const functionName = z.string().regex(FUNCTION_NAME, "a function name has 1-64 letters, digits, '_' or '-'");

/** A call the model made: `arguments` is JSON text, as OpenAI carries it. */
export const toolCall = z.object({ id: z.string().min(1).max(256), name: functionName, arguments: z.string().max(1_048_576) }).strict();
export type ToolCall = z.infer<typeof toolCall>;

/**
 * One turn of a conversation. An assistant turn may carry the tool calls it
 * made; a `tool` turn is the result of one of them, by its id.
 */
const turn = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: z.string() }).strict(),
  z.object({ role: z.literal("user"), content: z.string() }).strict(),
  z.object({ role: z.literal("assistant"), content: z.string(), toolCalls: z.array(toolCall).min(1).max(128).optional() }).strict(),
  z.object({ role: z.literal("tool"), toolCallId: z.string().min(1).max(256), content: z.string() }).strict(),
]);
export type ChatTurn = z.infer<typeof turn>;

/** A function the model may call; `parameters` is the JSON Schema of its arguments (an object). */
const toolSpec = z
  .object({ name: functionName, description: z.string().max(8192).optional(), parameters: jsonSchema.optional() })
  .strict();
export type ToolSpec = z.infer<typeof toolSpec>;

/** OpenAI's `tool_choice`: let the model decide, forbid calls, require one, or require this one. */
const toolChoice = z.union([z.enum(["auto", "none", "required"]), z.object({ name: functionName }).strict()]);
export type ToolChoice = z.infer<typeof toolChoice>;

const model = z.string().min(1).max(256);

export const generationInput = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("chat"),
      messages: z.array(turn).min(1),
      tools: z.array(toolSpec).min(1).max(128).optional(),
      /** Undefined: `auto` when there are tools. */
      toolChoice: toolChoice.optional(),
      /** Undefined: true, as OpenAI's default. */
      parallelToolCalls: z.boolean().optional(),
    })
    .strict(),
  z.object({ kind: z.literal("completion"), prompt: z.string() }).strict(),
]);
export type GenerationInput = z.infer<typeof generationInput>;

/** A text to embed, or the tokens of one (OpenAI accepts both). */
const embeddingItem = z.union([z.string(), z.array(z.int().min(0).max(10_000_000)).min(1)]);
export type EmbeddingItem = z.infer<typeof embeddingItem>;

export const embeddingInput = z
  .object({
    kind: z.literal("embedding"),
    /** At most OpenAI's 2048 a request. */
    items: z.array(embeddingItem).min(1).max(2048),
    /** Undefined: the model's own size. A node that cannot produce the size asked refuses. */
    dimensions: z.int().min(1).max(65_536).optional(),
  })
  .strict();
export type EmbeddingInput = z.infer<typeof embeddingInput>;

/**
 * The most tokens one answer may have unless the server is configured
 * otherwise (`maxTokensLimit`): a client's larger max_tokens is capped to it,
 * and agents bound requests without one by it and by their context.
 */
export const DEFAULT_MAX_TOKENS_LIMIT = 4096;

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("json") }).strict(),
  z.object({ type: z.literal("json_schema"), name: z.string().min(1).max(64), schema: jsonSchema, strict: z.boolean().optional() }).strict(),
]);
export type ResponseFormat = z.infer<typeof responseFormat>;

export const generationParams = z
  .object({
    /**
     * The client's value capped at the server's limit (ADR 0017); undefined:
     * the node's own bound (its context minus the prompt, and the limit).
     */
    maxTokens: z.int().min(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().gt(0).max(1).optional(),
    topK: z.int().min(1).max(100_000).optional(),
    seed: z.int().optional(),
    stop: z.array(z.string().min(1)).max(4),
    presencePenalty: z.number().min(-2).max(2).optional(),
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    /** Undefined: free text. `json`: any JSON object; `json_schema`: JSON that the schema accepts. */
    responseFormat: responseFormat.optional(),
  })
  .strict();
export type GenerationParams = z.infer<typeof generationParams>;

export const generationRequest = z.object({ model, input: generationInput, params: generationParams }).strict();
export type GenerationRequest = z.infer<typeof generationRequest>;

export const embeddingRequest = z.object({ model, input: embeddingInput }).strict();
export type EmbeddingRequest = z.infer<typeof embeddingRequest>;

/** OpenAI's bound on the text of one speech request. */
export const MAX_SPEECH_CHARS = 4096;

export const speechInput = z
  .object({
    kind: z.literal("speech"),
    text: z.string().min(1).max(MAX_SPEECH_CHARS),
    voice: z.string().min(1).max(64),
    format: z.enum(AUDIO_FORMATS),
    /** 0.25 to 4, OpenAI's range: 1 is the engine's normal rate. */
    speed: z.number().min(0.25).max(4),
  })
  .strict();
export type SpeechInput = z.infer<typeof speechInput>;

/**
 * The largest audio file a transcription takes: it travels base64 inside the
 * workload (a third larger), which must fit the agent's body limit.
 */
export const MAX_TRANSCRIPTION_BYTES = 10 * 1024 * 1024;

export const transcriptionInput = z
  .object({
    kind: z.literal("transcription"),
    /** The uploaded file as it came (wav, flac, mp3, ogg), base64. */
    audioBase64: z.string().min(1).max(Math.ceil(MAX_TRANSCRIPTION_BYTES / 3) * 4),
    /** ISO-639-1; undefined: the engine's own. */
    language: z.string().regex(/^[a-z]{2}$/, "an ISO-639-1 code such as en").optional(),
  })
  .strict();
export type TranscriptionInput = z.infer<typeof transcriptionInput>;

export const speechRequest = z.object({ model, input: speechInput }).strict();
export type SpeechRequest = z.infer<typeof speechRequest>;

export const transcriptionRequest = z.object({ model, input: transcriptionInput }).strict();
export type TranscriptionRequest = z.infer<typeof transcriptionRequest>;

/** Every workload, as the agent's API takes it (agent-api.ts) and as the coordinator builds it. */
export const workload = z.union([generationRequest, embeddingRequest, speechRequest, transcriptionRequest]);

/** Room for image and job workloads. */
export type Workload = z.infer<typeof workload>;
export type WorkloadKind = Workload["input"]["kind"];

export function isGeneration(workload: Workload): workload is GenerationRequest {
  return workload.input.kind === "chat" || workload.input.kind === "completion";
}

export function isEmbedding(workload: Workload): workload is EmbeddingRequest {
  return workload.input.kind === "embedding";
}

/** Speech in or out: no tokens, no classification, answered whole. */
export function isSpeech(workload: Workload): workload is SpeechRequest | TranscriptionRequest {
  return workload.input.kind === "speech" || workload.input.kind === "transcription";
}

/** The tools a chat offers the model, unless its tool choice forbids calls: then it is plain chat. */
export function offeredTools(input: GenerationInput): ToolSpec[] {
  if (input.kind !== "chat" || input.tools === undefined || input.toolChoice === "none") return [];
  return input.tools;
}

/** The capability a node's model must advertise to take the workload. */
export function capabilityOf(workload: Workload): Capability {
  if (workload.input.kind === "embedding") return "embed";
  if (workload.input.kind === "speech") return "tts";
  if (workload.input.kind === "transcription") return "stt";
  if (!isGeneration(workload)) throw new Error("unreachable: every workload kind is named above");
  if (offeredTools(workload.input).length > 0) return "tools";
  return workload.params.responseFormat === undefined ? "chat" : "json";
}

/** Why an answer ended, in OpenAI's words (which the other APIs are translated from). */
export type FinishReason = "stop" | "length" | "tool_calls";

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  /** The calls the model made, in order; finishReason is then `tool_calls`. */
  toolCalls?: ToolCall[];
  promptTokens: number;
  completionTokens: number;
}

export interface EmbeddingResult {
  /** One per item, in the order asked, each of unit length. */
  vectors: number[][];
  /** Tokens the model read for all items together. */
  promptTokens: number;
}

export interface SpeechResult {
  format: AudioFormat;
  /** The whole file, base64. */
  audioBase64: string;
  sampleRate: number;
  durationS: number;
}

export interface TranscriptionResult {
  text: string;
  language: string;
  durationS: number;
  segments: Array<{ startS: number; endS: number; text: string }>;
  words: Array<{ startS: number; endS: number; word: string }>;
}

export type WorkloadResult =
  | ({ kind: "generation" } & GenerationResult)
  | ({ kind: "embedding" } & EmbeddingResult)
  | ({ kind: "speech" } & SpeechResult)
  | ({ kind: "transcription" } & TranscriptionResult);

/**
 * What a node sends while a workload runs, in order: text and tool calls
 * today; the others are the protocol's room for the workloads named above
 * (speech audio, job progress) and for usage and errors reported mid-stream.
 */
export type Chunk =
  /**
   * `tokens`: how many generated tokens this text came from, where the node
   * knows (agents: exactly; agentless servers send one token an event). A
   * resumed stream's max_tokens budget is what the chunks sent used up.
   */
  | { type: "text"; text: string; tokens?: number }
  /**
   * A piece of the `index`th call's arguments (JSON text). The first piece
   * of each call carries its id and function name; later ones only add text.
   */
  | { type: "tool_call"; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: "audio"; format: string; dataBase64: string }
  | { type: "progress"; fraction: number; message: string }
  | { type: "usage"; promptTokens: number; completionTokens: number }
  | { type: "error"; code: ErrorCode; message: string };

export interface RunOptions {
  /** Aborting it stops the work on the node and frees the slot. */
  signal: AbortSignal;
  /** Each chunk, in order; omit when not streaming. */
  onChunk?: (chunk: Chunk) => void;
  /**
   * A flotilla agent must have taken the request (connected and sent its
   * response head, which it does at once) within this; a hung process behind
   * a live socket fails here. Agentless servers send their head only with
   * the first token, so they leave this to the first-token timeout.
   */
  connectTimeoutMs?: number;
}

/** The result of a generation workload, or an internal error if a node answered with another kind. */
export function generationResultOf(result: WorkloadResult): GenerationResult {
  if (result.kind !== "generation") throw new Error(`expected a generation result, got ${result.kind}`);
  return result;
}

export function embeddingResultOf(result: WorkloadResult): EmbeddingResult {
  if (result.kind !== "embedding") throw new Error(`expected an embedding result, got ${result.kind}`);
  return result;
}

export function speechResultOf(result: WorkloadResult): SpeechResult {
  if (result.kind !== "speech") throw new Error(`expected a speech result, got ${result.kind}`);
  return result;
}

export function transcriptionResultOf(result: WorkloadResult): TranscriptionResult {
  if (result.kind !== "transcription") throw new Error(`expected a transcription result, got ${result.kind}`);
  return result;
}

/** Scales a vector to unit length (OpenAI's and Ollama's embeddings are normalised); a zero vector stays zero. */
export function normalise(vector: readonly number[]): number[] {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm === 0 ? [...vector] : vector.map((x) => x / norm);
}
