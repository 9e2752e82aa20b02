// What the agent sends to a program's OpenAI-compatible API and how it reads
// the answers back (a process template's `serve`, issue 17). Pure: the HTTP
// side is openai-upstream.ts. The coordinator's agentless dialect
// (apps/coordinator/src/nodes/agentless/openai-dialect.ts) maps the same way.
import { z } from "zod";
import { FlotillaError, normalise, type ChatTurn, type EmbeddingRequest, type EmbeddingResult, type FinishReason, type GenerationRequest } from "@flotilla/protocol";

/** A request to the program: its path under /v1 and its JSON body. */
export interface UpstreamCall {
  path: "chat/completions" | "completions" | "embeddings";
  body: Record<string, unknown>;
}

export function generationCall(upstreamModel: string, request: GenerationRequest): UpstreamCall {
  const { input, params: p } = request;
  const common = {
    model: upstreamModel,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: p.maxTokens,
    temperature: p.temperature,
    top_p: p.topP,
    seed: p.seed,
    // Some servers refuse an empty list where OpenAI accepts one.
    stop: p.stop.length === 0 ? undefined : p.stop,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
  };
  if (input.kind === "completion") {
    if (p.responseFormat !== undefined) throw new FlotillaError("unsupported_parameter", "response_format is for chat completions", { param: "response_format" });
    return { path: "completions", body: { ...common, prompt: input.prompt } };
  }
  const format = p.responseFormat;
  const responseFormat =
    format === undefined
      ? undefined
      : format.type === "json"
        ? { type: "json_object" }
        : { type: "json_schema", json_schema: { name: format.name, schema: format.schema, ...(format.strict === undefined ? {} : { strict: format.strict }) } };
  const { tools, toolChoice, parallelToolCalls } = input;
  return {
    path: "chat/completions",
    body: {
      ...common,
      messages: input.messages.map(openaiMessage),
      response_format: responseFormat,
      tools: tools?.map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.parameters ?? { type: "object" } } })),
      tool_choice: toolChoice === undefined || typeof toolChoice === "string" ? toolChoice : { type: "function", function: toolChoice },
      parallel_tool_calls: parallelToolCalls,
    },
  };
}

function openaiMessage(turn: ChatTurn): unknown {
  switch (turn.role) {
    case "assistant":
      return turn.toolCalls === undefined
        ? { role: "assistant", content: turn.content }
        : {
            role: "assistant",
            content: turn.content === "" ? null : turn.content,
            tool_calls: turn.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })),
          };
    case "tool":
      return { role: "tool", tool_call_id: turn.toolCallId, content: turn.content };
    case "system":
    case "user":
      return { role: turn.role, content: turn.content };
  }
}

export function embeddingCall(upstreamModel: string, request: EmbeddingRequest): UpstreamCall {
  const { items, dimensions } = request.input;
  return { path: "embeddings", body: { model: upstreamModel, input: items, encoding_format: "float", dimensions } };
}

// Only the fields read are checked: servers add their own, so objects are not strict.
const usage = z.object({ prompt_tokens: z.int().min(0), completion_tokens: z.int().min(0) });
const toolCallPieces = z
  .array(
    z.object({
      index: z.int().min(0).max(127).optional(),
      id: z.string().min(1).max(256).nullish(),
      function: z.object({ name: z.string().min(1).max(64).nullish(), arguments: z.string().nullish() }).nullish(),
    }),
  )
  .max(128)
  .nullish();
const streamChunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish(), tool_calls: toolCallPieces }).nullish(),
        /** A whole (non-streamed) chat answer. */
        message: z.object({ content: z.string().nullish(), tool_calls: toolCallPieces }).nullish(),
        text: z.string().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: usage.nullish(),
});

/** A piece of the `index`th tool call: the first carries its id and name, later ones more of its arguments. */
export interface ToolCallPiece {
  index: number;
  id?: string;
  name?: string;
  argumentsDelta: string;
}

/** What one streamed event (or a whole JSON answer) says. */
export interface StreamUpdate {
  text: string;
  toolCalls?: ToolCallPiece[];
  finishReason?: FinishReason;
  usage?: { promptTokens: number; completionTokens: number };
  done: boolean;
}

/** One SSE data payload; a malformed one or an error event is the program failing. */
export function parseStreamEvent(payload: string): StreamUpdate {
  if (payload.trim() === "[DONE]") return { text: "", done: true };
  const json = parseJson(payload);
  const said = errorMessageOf(json);
  if (said !== undefined) throw new FlotillaError("backend_error", `the program failed: ${said}`);
  const parsed = streamChunk.safeParse(json);
  if (!parsed.success) throw new FlotillaError("backend_error", `the program sent an unexpected stream chunk (${parsed.error.issues[0]?.message ?? "?"})`);
  const update: StreamUpdate = { text: "", done: false };
  for (const choice of parsed.data.choices) {
    update.text += choice.delta?.content ?? choice.message?.content ?? choice.text ?? "";
    const pieces = choice.delta?.tool_calls ?? choice.message?.tool_calls;
    if (pieces) {
      update.toolCalls = pieces.map((piece, i) => ({
        // A whole answer's calls may leave out the index: their order is it.
        index: piece.index ?? i,
        ...(piece.id == null ? {} : { id: piece.id }),
        ...(piece.function?.name == null ? {} : { name: piece.function.name }),
        argumentsDelta: piece.function?.arguments ?? "",
      }));
    }
    if (choice.finish_reason) update.finishReason = choice.finish_reason === "length" || choice.finish_reason === "tool_calls" ? choice.finish_reason : "stop";
  }
  const u = parsed.data.usage;
  if (u) update.usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens };
  return update;
}

/** An SSE error event: the program failed mid-answer. */
export function streamError(payload: string): FlotillaError {
  const json = parseJson(payload);
  const said = errorMessageOf(json) ?? (typeof json === "object" && json !== null && "message" in json && typeof json.message === "string" ? json.message.slice(0, 300) : undefined);
  return new FlotillaError("backend_error", `the program failed: ${said ?? "it sent an error event"}`);
}

const embeddingList = z.object({
  data: z.array(z.object({ index: z.int().min(0), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.int().min(0) }).nullish(),
});

export function parseEmbeddings(text: string, expected: number): EmbeddingResult {
  const parsed = embeddingList.safeParse(parseJson(text));
  if (!parsed.success) throw new FlotillaError("backend_error", "the program sent an unexpected embeddings answer");
  if (parsed.data.data.length !== expected) throw new FlotillaError("backend_error", `the program sent ${parsed.data.data.length} embeddings for ${expected} inputs`);
  // Servers may list them in any order: `index` says whose each one is.
  const vectors = [...parsed.data.data].sort((a, b) => a.index - b.index).map((d) => normalise(d.embedding));
  return { vectors, promptTokens: parsed.data.usage?.prompt_tokens ?? 0 };
}

/** How vLLM, llama-server and OpenAI word a prompt that does not fit. */
const CONTEXT_TOO_LONG = /context length|context window|maximum context|context size|exceeds the available context|too many tokens/i;

/** The error for a program's non-2xx answer: busy, the request's fault (its message passed on), or the program's. */
export function refusal(status: number, bodyText: string, retryAfter: string | null): FlotillaError {
  const said = errorMessageOf(parseJson(bodyText));
  if (status === 408 || status === 429 || status === 503) {
    const seconds = retryAfter !== null && /^\s*\d+\s*$/.test(retryAfter) ? Math.min(3600, Number.parseInt(retryAfter, 10)) : undefined;
    return new FlotillaError("server_busy", `the program is busy (HTTP ${status})`, seconds === undefined ? {} : { retryAfterS: seconds });
  }
  if (status >= 400 && status < 500) {
    const message = said ?? `the program refused the request (HTTP ${status})`;
    return CONTEXT_TOO_LONG.test(message) ? new FlotillaError("context_length_exceeded", message) : new FlotillaError("rejected_by_node", message, { status });
  }
  return new FlotillaError("backend_error", `the program answered HTTP ${status}${said === undefined ? "" : `: ${said}`}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The message of an OpenAI- or vLLM-shaped JSON error, shortened; undefined for anything else. */
function errorMessageOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  if ("error" in json) {
    const error: unknown = json.error;
    if (typeof error === "string") return error.slice(0, 300);
    if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") return error.message.slice(0, 300);
  }
  if ("object" in json && json.object === "error" && "message" in json && typeof json.message === "string") return json.message.slice(0, 300);
  return undefined;
}
