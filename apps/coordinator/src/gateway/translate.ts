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
    // `developer` is OpenAI's newer name for `system`; tool results are read as user turns.
    const role = m.role === "developer" ? "system" : m.role === "tool" ? "user" : m.role;
    return { role, content };
  });
  return {
    model: body.model,
    input: { kind: "chat", messages },
    params: params(body, capped(body.max_completion_tokens ?? body.max_tokens, maxTokensLimit)),
  };
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

export function chatCompletion(who: ResponseIdentity, result: GenerationResult): ChatCompletion {
  return {
    ...who,
    object: "chat.completion",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: result.text, refusal: null },
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
