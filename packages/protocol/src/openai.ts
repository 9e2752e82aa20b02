// The OpenAI request bodies flotilla accepts, as schemas with inferred types.
// Unknown fields are dropped rather than refused (OpenAI's SDKs add new ones
// often); fields we cannot honour are refused with a message that names them,
// because silently ignoring e.g. `tools` would return a wrong answer.
import { z } from "zod";
import { FUNCTION_NAME, jsonSchema, type FinishReason } from "./workload.ts";

export type { FinishReason };

const unsupported = (what: string) => ({ error: `${what} is not supported by flotilla yet` });

const textPart = z.object({ type: z.literal("text"), text: z.string() });

const content = z.union([z.string(), z.array(textPart, { error: "content parts must be of type text" })]).nullish();
const functionName = z.string().regex(FUNCTION_NAME, "a function name has 1-64 letters, digits, '_' or '-'");

const toolCall = z.object({
  id: z.string().min(1).max(256),
  type: z.literal("function", { error: "only tool calls of type function are supported" }),
  function: z.object({ name: functionName, arguments: z.string().max(1_048_576) }),
});

const message = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer", "user"]), content, name: z.string().max(256).optional() }),
  z.object({ role: z.literal("assistant"), content, name: z.string().max(256).optional(), tool_calls: z.array(toolCall).max(128).nullish() }),
  z.object({ role: z.literal("tool"), content, tool_call_id: z.string().min(1).max(256) }),
], { error: "role must be one of system, developer, user, assistant, tool" });
export type ChatMessage = z.infer<typeof message>;

const tool = z.object({
  type: z.literal("function", { error: "only tools of type function are supported" }),
  function: z.object({
    name: functionName,
    description: z.string().max(8192).optional(),
    parameters: jsonSchema.optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union(
  [z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: functionName }) })],
  { error: 'tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}' },
);

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().regex(FUNCTION_NAME, "a schema name has 1-64 letters, digits, '_' or '-'"),
      description: z.string().max(8192).optional(),
      schema: jsonSchema.optional(),
      strict: z.boolean().nullish(),
    }),
  }),
], { error: "response_format.type must be text, json_object or json_schema" });

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish();

/** Sampling fields that chat and text completions share. */
const sampling = {
  model: z.string().min(1).max(256),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1, { error: "only n=1 is supported: send the request n times (each is routed on its own)" }).nullish(),
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

const NO_LOGPROBS =
  "logprobs are not supported: node-llama-cpp's chat and completion APIs, which flotilla's nodes generate with, do not return token probabilities (ADR 0030)";

export const chatCompletionRequest = z
  .object({
    ...sampling,
    messages: z.array(message).min(1),
    max_tokens: maxTokens,
    max_completion_tokens: maxTokens,
    tools: z.array(tool).max(128).nullish(),
    tool_choice: toolChoice.nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    response_format: responseFormat.nullish(),
    logprobs: z.literal(false, { error: NO_LOGPROBS }).nullish(),
    top_logprobs: z.null({ error: NO_LOGPROBS }).optional(),
  })
  .superRefine((body, ctx) => {
    // What OpenAI itself refuses: a tool choice naming no offered tool, and
    // tool results that answer no call made before them.
    const names = new Set((body.tools ?? []).map((t) => t.function.name));
    const choice = body.tool_choice;
    if (choice != null && choice !== "none" && names.size === 0) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: "tool_choice needs tools" });
    } else if (typeof choice === "object" && choice !== null && !names.has(choice.function.name)) {
      ctx.addIssue({ code: "custom", path: ["tool_choice"], message: `tool_choice names '${choice.function.name}', which is not among the tools` });
    }
    const callIds = new Set<string>();
    /** Calls not answered yet, with the index of the message that made them. */
    const open = new Map<string, number>();
    body.messages.forEach((m, i) => {
      if (m.role === "tool") {
        if (!callIds.has(m.tool_call_id)) {
          ctx.addIssue({ code: "custom", path: ["messages", i, "tool_call_id"], message: `a tool message must answer a tool call made before it; no call has id '${m.tool_call_id}'` });
        }
        open.delete(m.tool_call_id);
        return;
      }
      // Any other message closes the calls before it: each must have had its answer.
      for (const [id, at] of open) {
        ctx.addIssue({ code: "custom", path: ["messages", at, "tool_calls"], message: `the tool call '${id}' must be answered by a tool message before the next message` });
      }
      open.clear();
      if (m.role === "assistant") {
        for (const call of m.tool_calls ?? []) {
          callIds.add(call.id);
          open.set(call.id, i);
        }
      }
    });
  });
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

export const completionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1, { error: "only one prompt per request is supported" })]),
  max_tokens: maxTokens,
  echo: z.boolean().nullish(),
  suffix: z.null(unsupported("suffix")).optional(),
  best_of: z.literal(1, unsupported("best_of other than 1")).nullish(),
  logprobs: z.null({ error: NO_LOGPROBS }).optional(),
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

export interface ToolCallObject {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A streamed piece of a tool call: the first for an index carries id, type and name. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

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
    /** `content` is null when the model answered with tool calls only, as OpenAI sends it. */
    message: { role: "assistant"; content: string | null; refusal: null; tool_calls?: ToolCallObject[] };
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
    delta: { role?: "assistant"; content?: string | null; tool_calls?: ToolCallDelta[] };
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
