// An OpenAI-compatible server: llama-server, vLLM, LM Studio, another
// flotilla. Generation streams with usage in the last chunk
// (stream_options.include_usage); servers that ignore the option leave the
// counts at 0 rather than the coordinator guessing them.
import { z } from "zod";
import { normalise, type ChatTurn, type EmbeddingRequest, type EmbeddingResult, type GenerationRequest } from "@flotilla/protocol";
import { finishReasonOf, firstIssue, functionTools, joinUrl, parseJson, type Dialect, type Parsed, type ReportedModel, type StreamUpdate } from "./dialect.ts";

/**
 * A base URL is taken with or without its `/v1`, the way OpenAI SDKs take
 * `baseURL`: `http://host:8000` and `http://host:8000/v1` are the same server.
 */
export function openaiUrl(base: string, path: string): URL {
  const root = new URL(base).pathname.replace(/\/+$/, "").endsWith("/v1") ? "" : "v1/";
  return joinUrl(base, root + path);
}

// Only the fields read are checked; servers add their own (llama-server's
// `meta`, vLLM's `permission`), so objects are not strict.
const modelList = z.object({
  data: z.array(
    z.object({
      id: z.string().min(1).max(128),
      /** vLLM (and flotilla) say how long a context they serve. */
      max_model_len: z.int().min(1).max(16_777_216).optional(),
      /** OpenRouter's and LM Studio's name for it. */
      context_length: z.int().min(1).max(16_777_216).optional(),
    }),
  ),
});

const usage = z.object({ prompt_tokens: z.int().min(0), completion_tokens: z.int().min(0) });

// Chat chunks carry `delta.content`, completion chunks `text`, and a whole
// (non-streamed) chat answer `message.content`: one schema reads all three.
const toolCallPiece = z.object({
  index: z.int().min(0).max(127).optional(),
  id: z.string().min(1).max(256).nullish(),
  function: z.object({ name: z.string().min(1).max(64).nullish(), arguments: z.string().nullish() }).nullish(),
});
const toolCallPieces = z.array(toolCallPiece).max(128).nullish();

const chunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish(), tool_calls: toolCallPieces }).nullish(),
        message: z.object({ content: z.string().nullish(), tool_calls: toolCallPieces }).nullish(),
        text: z.string().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: usage.nullish(),
});

const errorBody = z.object({ error: z.union([z.string(), z.object({ message: z.string() })]) });

function parseModels(body: unknown): Parsed<ReportedModel[]> {
  const parsed = modelList.safeParse(body);
  if (!parsed.success) return { ok: false, error: `unexpected model list: ${firstIssue(parsed.error.issues)}` };
  return {
    ok: true,
    value: parsed.data.data.map((m) => {
      const contextSize = m.max_model_len ?? m.context_length;
      return contextSize === undefined ? { id: m.id } : { id: m.id, contextSize };
    }),
  };
}

function generation(base: string, request: GenerationRequest): { url: URL; body: unknown } {
  const p = request.params;
  const common = {
    model: request.model,
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
  if (request.input.kind === "completion") return { url: openaiUrl(base, "completions"), body: { ...common, prompt: request.input.prompt } };
  const { messages, tools, toolChoice, parallelToolCalls } = request.input;
  const format = p.responseFormat;
  return {
    url: openaiUrl(base, "chat/completions"),
    body: {
      ...common,
      messages: messages.map(openaiMessage),
      ...(tools === undefined ? {} : { tools: functionTools(tools) }),
      ...(toolChoice === undefined ? {} : { tool_choice: typeof toolChoice === "string" ? toolChoice : { type: "function", function: toolChoice } }),
      ...(parallelToolCalls === undefined ? {} : { parallel_tool_calls: parallelToolCalls }),
      ...(format === undefined
        ? {}
        : {
            response_format:
              format.type === "json"
                ? { type: "json_object" }
                : { type: "json_schema", json_schema: { name: format.name, schema: format.schema, ...(format.strict === undefined ? {} : { strict: format.strict }) } },
          }),
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

function parseEvent(payload: string): Parsed<StreamUpdate> {
  if (payload.trim() === "[DONE]") return { ok: true, value: { text: "", done: true } };
  const json = parseJson(payload);
  if (!json.ok) return json;
  // Checked only when there is an `error` key: a union that fails costs
  // more than the chunk itself, and almost every event is a chunk.
  const failure = typeof json.value === "object" && json.value !== null && "error" in json.value ? errorBody.safeParse(json.value) : undefined;
  if (failure?.success) {
    const { error } = failure.data;
    return { ok: false, error: typeof error === "string" ? error : error.message };
  }
  const parsed = chunk.safeParse(json.value);
  if (!parsed.success) return { ok: false, error: `unexpected stream chunk: ${firstIssue(parsed.error.issues)}` };
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
    if (choice.finish_reason) update.finishReason = finishReasonOf(choice.finish_reason);
  }
  const u = parsed.data.usage;
  if (u) update.usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens };
  return { ok: true, value: update };
}

const embeddingList = z.object({
  data: z.array(z.object({ index: z.int().min(0), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.int().min(0) }).nullish(),
});

function embeddings(base: string, request: EmbeddingRequest): { url: URL; body: unknown } {
  const { items, dimensions } = request.input;
  // Floats always: base64 is decoded back at the gateway's edge, for every node kind alike.
  return { url: openaiUrl(base, "embeddings"), body: { model: request.model, input: items, encoding_format: "float", dimensions } };
}

function parseEmbeddings(body: unknown): Parsed<EmbeddingResult> {
  const parsed = embeddingList.safeParse(body);
  if (!parsed.success) return { ok: false, error: `unexpected embeddings answer: ${firstIssue(parsed.error.issues)}` };
  // Servers may list them in any order: `index` says whose each one is.
  const vectors = [...parsed.data.data].sort((a, b) => a.index - b.index).map((d) => normalise(d.embedding));
  return { ok: true, value: { vectors, promptTokens: parsed.data.usage?.prompt_tokens ?? 0 } };
}

export const openaiDialect: Dialect = {
  healthUrl: (base) => openaiUrl(base, "models"),
  parseModels,
  generation,
  framing: "sse",
  parseEvent,
  embeddings,
  parseEmbeddings,
};
