// Resuming an answer on another node (continue_on_failure): the request is
// rewritten so that the text already sent is the start of the answer, and
// the new node writes only what follows. Chat: the text becomes an open
// assistant turn, which agents (toChatHistory) and OpenAI-style servers
// continue; completion: it is appended to the prompt. Pure.
import { isGeneration, offeredTools, type GenerationRequest, type Workload } from "@flotilla/protocol";

/**
 * Only free text can be continued: output held to a grammar (a schema's
 * JSON, a tool call) would restart the grammar at the seam and come out
 * invalid, so such a stream fails as it is rather than resumed.
 */
export function resumable(workload: Workload): workload is GenerationRequest {
  return isGeneration(workload) && workload.params.responseFormat === undefined && offeredTools(workload.input).length === 0;
}

/**
 * The request that continues `original` after `sent`, or undefined when
 * max_tokens is already used up (the answer ends there, with "length").
 * `sentTokens` is what the chunks sent say they used (Chunk.tokens), so the
 * budget holds exactly across the seam.
 */
export function continuation(original: GenerationRequest, sent: string, sentTokens: number): GenerationRequest | undefined {
  const maxTokens = original.params.maxTokens;
  const left = maxTokens === undefined ? undefined : maxTokens - sentTokens;
  if (left !== undefined && left <= 0) return undefined;
  const params = { ...original.params, maxTokens: left };
  if (original.input.kind === "completion") {
    return { ...original, params, input: { kind: "completion", prompt: original.input.prompt + sent } };
  }
  const messages = [...original.input.messages];
  const last = messages.at(-1);
  // A client's own trailing assistant turn is a prefix the model continues; what was sent follows it.
  if (last?.role === "assistant") messages[messages.length - 1] = { ...last, content: last.content + sent };
  else messages.push({ role: "assistant", content: sent });
  return { ...original, params, input: { kind: "chat", messages } };
}
