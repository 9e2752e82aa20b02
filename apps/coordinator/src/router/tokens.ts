// Prompt size without a tokenizer. The coordinator holds no model files, so it
// cannot count tokens exactly; the router only needs to know whether a prompt
// fits a node's context window, and an estimate does that.
//
// The estimate: one token per 4 characters (the usual average for English
// with the BPE vocabularies of Llama, Qwen and Mistral), rounded up, plus
// CHAT_TURN_OVERHEAD tokens per chat message for the role markers the chat
// template adds. It under-counts code and non-Latin scripts (closer to 1-3
// characters per token) and over-counts runs of short words; the node still
// checks the real count and answers context_length_exceeded, so an
// under-estimate costs one failed try, never a wrong answer.
import type { GenerationInput } from "@flotilla/protocol";

export const CHARS_PER_TOKEN = 4;
export const CHAT_TURN_OVERHEAD = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimatePromptTokens(input: GenerationInput): number {
  if (input.kind === "completion") return estimateTokens(input.prompt);
  let tokens = 0;
  for (const turn of input.messages) tokens += estimateTokens(turn.content) + CHAT_TURN_OVERHEAD;
  return tokens;
}
