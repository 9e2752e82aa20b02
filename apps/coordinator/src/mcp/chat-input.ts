// What the `chat` and `explain_route` tools take, and how it becomes the
// body of a /v1/chat/completions request: the tools then run through the
// same validation, translation (chatToGeneration) and router as /v1 does,
// so an MCP host and an OpenAI client are routed alike.
import { z } from "zod";
import type { ChatCompletionRequest } from "@flotilla/protocol";

/** The turns an MCP host may send: text only (tool calls are for /v1 clients). */
const turn = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string().max(1_048_576),
});

/**
 * Zod's object schema, not a raw shape, so the rule across fields (exactly
 * one of messages and prompt) is part of what the SDK validates and
 * refuses with its own error.
 */
export const chatToolInput = z
  .object({
    model: z.string().min(1).max(256).describe("A model id, as list_models gives it"),
    messages: z.array(turn).min(1).max(1_024).optional().describe("The conversation so far; or give prompt instead"),
    prompt: z.string().min(1).max(1_048_576).optional().describe("One user message; or give messages instead"),
    prefer_tier: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .optional()
      .describe("0 fast/small, 1 medium, 2 powerful; other tiers still take the request when this one cannot"),
    max_tokens: z.int().min(1).max(1_000_000).optional().describe("The most tokens the answer may have"),
    temperature: z.number().min(0).max(2).optional(),
  })
  .refine((input) => (input.messages === undefined) !== (input.prompt === undefined), {
    message: "give exactly one of messages and prompt",
    path: ["messages"],
  });
export type ChatToolInput = z.infer<typeof chatToolInput>;

/** The /v1/chat/completions body the input stands for; checked by the caller with chatCompletionRequest. */
export function toChatCompletionBody(input: ChatToolInput): ChatCompletionRequest {
  const messages = input.messages ?? [{ role: "user" as const, content: input.prompt ?? "" }];
  return {
    model: input.model,
    messages,
    ...(input.prefer_tier === undefined ? {} : { prefer_tier: input.prefer_tier }),
    ...(input.max_tokens === undefined ? {} : { max_tokens: input.max_tokens }),
    ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
  };
}
