// Ollama bodies ⇄ flotilla's workloads and results. Pure functions: the wire
// format of /api is decided here and nowhere else. Durations are nanoseconds,
// as Ollama reports them; how they are measured is in ollama-timing.ts.
import {
  DEFAULT_MAX_TOKENS_LIMIT,
  FlotillaError,
  type ChatTurn,
  type EmbeddingRequest,
  type FinishReason,
  type GenerationParams,
  type GenerationRequest,
  type GenerationResult,
  type ToolCall,
  type ToolSpec,
} from "@flotilla/protocol";
import type {
  OllamaChatRequest,
  OllamaEmbedRequest,
  OllamaEmbeddingsRequest,
  OllamaGenerateRequest,
  OllamaMessage,
  OllamaOptions,
} from "./ollama-schemas.ts";

/** The measured durations of one answer, in nanoseconds. */
export interface Durations {
  total_duration: number;
  load_duration: number;
  prompt_eval_duration: number;
  eval_duration: number;
}

export interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

export interface OllamaChatMessageOut {
  role: "assistant";
  content: string;
  tool_calls?: OllamaToolCall[];
}

interface Stamp {
  model: string;
  created_at: string;
}

export type OllamaChatChunk = Stamp & { message: OllamaChatMessageOut; done: false };
export type OllamaChatFinal = Stamp & { message: OllamaChatMessageOut; done: true; done_reason: string; prompt_eval_count: number; eval_count: number } & Durations;
export type OllamaGenerateChunk = Stamp & { response: string; done: false };
export type OllamaGenerateFinal = Stamp & { response: string; done: true; done_reason: string; prompt_eval_count: number; eval_count: number } & Durations;
/** The answer to an empty chat or prompt: Ollama's "the model is loaded" (docs/adr/0032). */
export type OllamaLoadAnswer = Stamp & { done: true; done_reason: "load" } & ({ response: string } | { message: OllamaChatMessageOut });

/** Ollama's "load this model": a chat without messages. */
export function isEmptyChat(body: OllamaChatRequest): boolean {
  return (body.messages ?? []).length === 0;
}

/** Ollama's "load this model": a generate with an empty prompt. */
export function isEmptyPrompt(body: OllamaGenerateRequest): boolean {
  return (body.prompt ?? "") === "";
}

function capped(requested: number | null | undefined, limit: number): number | undefined {
  // -1 (until the model stops), -2 (until the context is full) and 0 leave the bound to the node.
  return requested == null || requested <= 0 ? undefined : Math.min(requested, limit);
}

function paramsOf(options: OllamaOptions | null | undefined, format: OllamaChatRequest["format"], maxTokensLimit: number): GenerationParams {
  const o = options ?? {};
  return {
    maxTokens: capped(o.num_predict, maxTokensLimit),
    temperature: o.temperature ?? undefined,
    // Ollama's top_p 0 and top_k 0 mean "off".
    topP: o.top_p == null || o.top_p === 0 ? undefined : o.top_p,
    topK: o.top_k == null || o.top_k === 0 ? undefined : o.top_k,
    seed: o.seed ?? undefined,
    stop: (o.stop ?? []).filter((s) => s !== ""),
    presencePenalty: o.presence_penalty ?? undefined,
    frequencyPenalty: o.frequency_penalty ?? undefined,
    ...responseFormatOf(format),
  };
}

function responseFormatOf(format: OllamaChatRequest["format"]): Pick<GenerationParams, "responseFormat"> {
  if (format == null || format === "") return {};
  if (format === "json") return { responseFormat: { type: "json" } };
  return { responseFormat: { type: "json_schema", name: "response", schema: format } };
}

/**
 * Ollama's messages → flotilla's turns. Ollama's tool calls have no ids, and
 * its tool messages answer by position (or by `tool_name`): each call gets an
 * id from its place in the conversation, and each tool message the id of the
 * first unanswered call of the assistant turn before it (by name when given).
 */
export function turnsOf(messages: readonly OllamaMessage[]): ChatTurn[] {
  let open: ToolCall[] = [];
  return messages.map((m, at): ChatTurn => {
    const content = m.content ?? "";
    switch (m.role) {
      case "system":
      case "user":
        return { role: m.role, content };
      case "assistant": {
        const calls = (m.tool_calls ?? []).map((c, i): ToolCall => ({
          id: c.id ?? `call_${at}_${i}`,
          name: c.function.name,
          arguments: JSON.stringify(c.function.arguments),
        }));
        open = [...calls];
        return calls.length > 0 ? { role: "assistant", content, toolCalls: calls } : { role: "assistant", content };
      }
      case "tool": {
        const byName = m.tool_name == null ? -1 : open.findIndex((c) => c.name === m.tool_name);
        const index = byName >= 0 ? byName : 0;
        const call = open[index];
        if (call === undefined) {
          throw new FlotillaError("invalid_request", `messages[${at}]: a tool message must follow an assistant message with a tool call it answers`, { param: `messages[${at}]` });
        }
        open.splice(index, 1);
        return { role: "tool", toolCallId: call.id, content };
      }
    }
  });
}

export function chatToGeneration(body: OllamaChatRequest, maxTokensLimit: number = DEFAULT_MAX_TOKENS_LIMIT): GenerationRequest {
  const tools = (body.tools ?? []).map((t): ToolSpec => ({
    name: t.function.name,
    ...(t.function.description == null ? {} : { description: t.function.description }),
    ...(t.function.parameters == null ? {} : { parameters: t.function.parameters }),
  }));
  return {
    model: body.model,
    input: { kind: "chat", messages: turnsOf(body.messages ?? []), ...(tools.length > 0 ? { tools } : {}) },
    params: paramsOf(body.options, body.format, maxTokensLimit),
  };
}

/**
 * Ollama's generate applies the model's template (a user turn, after the
 * system prompt) unless `raw`: then the prompt is a plain completion.
 */
export function generateToGeneration(body: OllamaGenerateRequest, maxTokensLimit: number = DEFAULT_MAX_TOKENS_LIMIT): GenerationRequest {
  const prompt = body.prompt ?? "";
  const system = body.system ?? "";
  const input: GenerationRequest["input"] =
    body.raw === true
      ? { kind: "completion", prompt }
      : { kind: "chat", messages: [...(system === "" ? [] : [{ role: "system" as const, content: system }]), { role: "user", content: prompt }] };
  return { model: body.model, input, params: paramsOf(body.options, body.format, maxTokensLimit) };
}

export function embedToWorkload(body: OllamaEmbedRequest): EmbeddingRequest {
  const items = typeof body.input === "string" ? [body.input] : body.input;
  return { model: body.model, input: { kind: "embedding", items, dimensions: body.dimensions ?? undefined } };
}

export function embeddingsToWorkload(body: OllamaEmbeddingsRequest): EmbeddingRequest {
  return { model: body.model, input: { kind: "embedding", items: [body.prompt] } };
}

/** Ollama says `stop` when the model called tools: the calls are in the message. */
export function doneReasonOf(reason: FinishReason): string {
  return reason === "length" ? "length" : "stop";
}

/** Arguments are JSON text on flotilla's side (constrained to an object by the node); Ollama carries the object. */
export function ollamaToolCalls(calls: readonly ToolCall[]): OllamaToolCall[] {
  return calls.map((c) => ({ function: { name: c.name, arguments: argumentsObject(c.arguments) } }));
}

function argumentsObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Falls through: Ollama's clients expect an object whatever the model wrote.
  }
  return {};
}

export function messageOf(text: string, calls: readonly ToolCall[] = []): OllamaChatMessageOut {
  return calls.length > 0 ? { role: "assistant", content: text, tool_calls: ollamaToolCalls(calls) } : { role: "assistant", content: text };
}

export function chatChunk(stamp: Stamp, message: OllamaChatMessageOut): OllamaChatChunk {
  return { ...stamp, message, done: false };
}

export function chatFinal(stamp: Stamp, result: GenerationResult, durations: Durations, streamed: boolean): OllamaChatFinal {
  return {
    ...stamp,
    // Streamed, the text and calls went out in the chunks before; the last one carries none, as Ollama's.
    message: streamed ? messageOf("") : messageOf(result.text, result.toolCalls),
    done: true,
    done_reason: doneReasonOf(result.finishReason),
    ...durations,
    prompt_eval_count: result.promptTokens,
    eval_count: result.completionTokens,
  };
}

export function generateChunk(stamp: Stamp, text: string): OllamaGenerateChunk {
  return { ...stamp, response: text, done: false };
}

export function generateFinal(stamp: Stamp, result: GenerationResult, durations: Durations, streamed: boolean): OllamaGenerateFinal {
  return {
    ...stamp,
    response: streamed ? "" : result.text,
    done: true,
    done_reason: doneReasonOf(result.finishReason),
    ...durations,
    prompt_eval_count: result.promptTokens,
    eval_count: result.completionTokens,
  };
}

export function loadAnswer(stamp: Stamp, route: "chat" | "generate"): OllamaLoadAnswer {
  return route === "chat"
    ? { ...stamp, message: messageOf(""), done: true, done_reason: "load" }
    : { ...stamp, response: "", done: true, done_reason: "load" };
}
