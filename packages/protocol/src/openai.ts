// The OpenAI request bodies flotilla accepts, as schemas with inferred types.
// Unknown fields are dropped rather than refused (OpenAI's SDKs add new ones
// often); fields we cannot honour are refused with a message that names them,
// because silently ignoring e.g. `tools` would return a wrong answer.
import { z } from "zod";

const unsupported = (what: string) => ({ error: `${what} is not supported by flotilla yet` });

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const message = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(textPart, { error: "content parts must be of type text" })]).nullish(),
  name: z.string().max(256).optional(),
});

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish();

/** Sampling fields that chat and text completions share. */
const sampling = {
  model: z.string().min(1).max(256),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1, { error: "only n=1 is supported" }).nullish(),
  stop,
  seed: z.int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().max(256).optional(),
  // flotilla's own fields (ignored by OpenAI itself): force a tier (0 small
  // and fast … 2 powerful) and say whether other tiers may take the request
  // when that one cannot (default true); resume a stream on another node if
  // its node dies mid-answer; the busy queue's priority.
  prefer_tier: z.union([z.literal(0), z.literal(1), z.literal(2)]).nullish(),
  tier_fallback: z.boolean().nullish(),
  continue_on_failure: z.boolean().nullish(),
  priority: z.enum(["high", "normal", "low"]).nullish(),
};

const maxTokens = z.int().min(1).max(1_000_000).nullish();

export const chatCompletionRequest = z.object({
  ...sampling,
  messages: z.array(message).min(1),
  max_tokens: maxTokens,
  max_completion_tokens: maxTokens,
  tools: z.array(z.unknown()).max(0, unsupported("tools")).nullish(),
  tool_choice: z.literal("none", unsupported("tool_choice")).nullish(),
  response_format: z.object({ type: z.literal("text", unsupported("this response_format")) }).nullish(),
  logprobs: z.literal(false, unsupported("logprobs")).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

export const completionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1, { error: "only one prompt per request is supported" })]),
  max_tokens: maxTokens,
  echo: z.boolean().nullish(),
  suffix: z.null(unsupported("suffix")).optional(),
  best_of: z.literal(1, unsupported("best_of other than 1")).nullish(),
  logprobs: z.null(unsupported("logprobs")).optional(),
});
export type CompletionRequest = z.infer<typeof completionRequest>;

/** OpenAI's own limit: 2048 inputs a request. */
export const MAX_EMBEDDING_INPUTS = 2048;

const tokenArray = z.array(z.int().min(0).max(10_000_000)).min(1, { error: "a token array must not be empty" });

export const embeddingCreateRequest = z.object({
  model: z.string().min(1).max(256),
  input: z.union([
    z.string().min(1, { error: "input must not be empty" }),
    z.array(z.string().min(1, { error: "input must not be empty" })).min(1).max(MAX_EMBEDDING_INPUTS),
    tokenArray,
    z.array(tokenArray).min(1).max(MAX_EMBEDDING_INPUTS),
  ], { error: "input must be a string, an array of strings, an array of tokens, or an array of token arrays" }),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.int().min(1).max(65_536).nullish(),
  user: z.string().max(256).optional(),
  priority: z.enum(["high", "normal", "low"]).nullish(),
});
export type EmbeddingCreateRequest = z.infer<typeof embeddingCreateRequest>;

export interface EmbeddingObject {
  object: "embedding";
  index: number;
  /** Floats, or base64 of little-endian float32s (encoding_format: base64). */
  embedding: number[] | string;
}

export interface EmbeddingList {
  object: "list";
  data: EmbeddingObject[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** `messages[0].role`: the notation OpenAI uses for the `param` of an error. */
export function formatParam(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

export type FinishReason = "stop" | "length";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: "assistant"; content: string; refusal: null };
    finish_reason: FinishReason;
    logprobs: null;
  }>;
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    delta: { role?: "assistant"; content?: string };
    finish_reason: FinishReason | null;
    logprobs: null;
  }>;
  usage?: Usage | null;
}

export interface TextCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: Array<{ index: 0; text: string; finish_reason: FinishReason | null; logprobs: null }>;
  usage?: Usage | null;
}

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  /**
   * The context window, in tokens, under vLLM's name for it: another flotilla
   * (or any client) that reads vLLM's model list learns it without a dialect of its own.
   */
  max_model_len: number;
}

export interface ModelList {
  object: "list";
  data: ModelObject[];
}
