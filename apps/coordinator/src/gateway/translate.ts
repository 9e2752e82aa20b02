// OpenAI bodies ⇄ flotilla's GenerationRequest/Result. Pure functions: the
// wire format is decided here and nowhere else.
import {
  DEFAULT_MAX_TOKENS_LIMIT,
  type EmbeddingList,
  type EmbeddingRequest,
  type EmbeddingCreateRequest,
  type EmbeddingResult,
} from "@flotilla/protocol";
import type {
  Chunk,
  ToolCall,
  ToolCallDelta,
  ToolCallObject,
  ToolSpec,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatTurn,
  CompletionRequest,
  FinishReason,
  GenerationParams,
  GenerationRequest,
  GenerationResult,
  TextCompletion,
  Usage,
} from "@flotilla/protocol";

/** OpenAI's default `max_tokens` for /v1/completions. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

type SamplingFields = Pick<
  ChatCompletionRequest,
  "temperature" | "top_p" | "seed" | "stop" | "presence_penalty" | "frequency_penalty"
>;

function params(body: SamplingFields, maxTokens: number | undefined): GenerationParams {
  return {
    maxTokens,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    seed: body.seed ?? undefined,
    stop: body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop,
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
  };
}

/** A client's max_tokens, capped at the server's limit (ADR 0017); undefined stays undefined. */
function capped(requested: number | null | undefined, limit: number): number | undefined {
  return requested == null ? undefined : Math.min(requested, limit);
}

export function chatToGeneration(body: ChatCompletionRequest, maxTokensLimit: number = DEFAULT_MAX_TOKENS_LIMIT): GenerationRequest {
  const messages = body.messages.map((m): ChatTurn => {
    const content = m.content == null ? "" : typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("");
    switch (m.role) {
      case "tool":
        return { role: "tool", toolCallId: m.tool_call_id, content };
      case "assistant": {
        const calls = (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
        return calls.length > 0 ? { role: "assistant", content, toolCalls: calls } : { role: "assistant", content };
      }
      // `developer` is OpenAI's newer name for `system`.
      case "developer":
        return { role: "system", content };
      case "system":
      case "user":
        return { role: m.role, content };
    }
  });
  const tools = (body.tools ?? []).map((t): ToolSpec => ({
    name: t.function.name,
    ...(t.function.description === undefined ? {} : { description: t.function.description }),
    ...(t.function.parameters === undefined ? {} : { parameters: t.function.parameters }),
  }));
  const choice = body.tool_choice;
  return {
    model: body.model,
    input: {
      kind: "chat",
      messages,
      ...(tools.length > 0 ? { tools } : {}),
      ...(choice == null ? {} : { toolChoice: typeof choice === "string" ? choice : { name: choice.function.name } }),
      ...(body.parallel_tool_calls == null ? {} : { parallelToolCalls: body.parallel_tool_calls }),
    },
    params: {
      ...params(body, capped(body.max_completion_tokens ?? body.max_tokens, maxTokensLimit)),
      ...responseFormatOf(body.response_format),
    },
  };
}

function responseFormatOf(format: ChatCompletionRequest["response_format"]): Pick<GenerationParams, "responseFormat"> {
  if (format == null || format.type === "text") return {};
  if (format.type === "json_object") return { responseFormat: { type: "json" } };
  const { name, schema, strict } = format.json_schema;
  // A json_schema without a schema is OpenAI's way of asking for any JSON.
  if (schema === undefined) return { responseFormat: { type: "json" } };
  return { responseFormat: { type: "json_schema", name, schema, ...(strict == null ? {} : { strict }) } };
}

export function completionToGeneration(body: CompletionRequest, maxTokensLimit: number = DEFAULT_MAX_TOKENS_LIMIT): GenerationRequest {
  const prompt = typeof body.prompt === "string" ? body.prompt : (body.prompt[0] ?? "");
  return {
    model: body.model,
    input: { kind: "completion", prompt },
    params: params(body, capped(body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS, maxTokensLimit)),
  };
}

export interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
}

export function usageOf(result: GenerationResult): Usage {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
  };
}

export function toolCallObjects(calls: readonly ToolCall[]): ToolCallObject[] {
  return calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
}

/** A streamed tool call piece as OpenAI sends it: id, type and name on the first piece of a call only. */
export function toolCallDelta(chunk: Extract<Chunk, { type: "tool_call" }>): ToolCallDelta {
  return {
    index: chunk.index,
    ...(chunk.id === undefined ? {} : { id: chunk.id, type: "function" }),
    function: { ...(chunk.name === undefined ? {} : { name: chunk.name }), arguments: chunk.argumentsDelta },
  };
}

export function chatCompletion(who: ResponseIdentity, result: GenerationResult): ChatCompletion {
  const calls = result.toolCalls ?? [];
  return {
    ...who,
    object: "chat.completion",
    choices: [
      {
        index: 0,
        message:
          calls.length > 0
            ? { role: "assistant", content: result.text === "" ? null : result.text, refusal: null, tool_calls: toolCallObjects(calls) }
            : { role: "assistant", content: result.text, refusal: null },
        finish_reason: result.finishReason,
        logprobs: null,
      },
    ],
    usage: usageOf(result),
  };
}

export function chatChunk(
  who: ResponseIdentity,
  delta: ChatCompletionChunk["choices"][0]["delta"],
  finishReason: FinishReason | null = null,
): ChatCompletionChunk {
  return { ...who, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] };
}

export function chatUsageChunk(who: ResponseIdentity, usage: Usage): ChatCompletionChunk {
  return { ...who, object: "chat.completion.chunk", choices: [], usage };
}

export function textCompletion(
  who: ResponseIdentity,
  text: string,
  finishReason: FinishReason | null,
  usage?: Usage,
): TextCompletion {
  return {
    ...who,
    object: "text_completion",
    choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
    ...(usage ? { usage } : {}),
  };
}

/** An OpenAI embeddings body → the embedding workload: one item per input, in order. */
export function embeddingToWorkload(body: EmbeddingCreateRequest): EmbeddingRequest {
  const { input } = body;
  let items: (string | number[])[];
  if (typeof input === "string") items = [input];
  else if (input.every((x): x is number => typeof x === "number")) items = [input];
  else items = input;
  return { model: body.model, input: { kind: "embedding", items, dimensions: body.dimensions ?? undefined } };
}

export function embeddingList(model: string, result: EmbeddingResult, encoding: "float" | "base64"): EmbeddingList {
  return {
    object: "list",
    data: result.vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: encoding === "base64" ? base64Floats(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

/** OpenAI's base64 encoding: the vector as little-endian float32s. */
export function base64Floats(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString("base64");
}
