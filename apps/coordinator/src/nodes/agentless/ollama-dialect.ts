// Ollama's native API: /api/tags lists the models pulled, /api/chat and
// /api/generate stream newline-delimited JSON whose last line (done: true)
// carries the token counts.
import { z } from "zod";
import { randomUUID } from "node:crypto";
import { normalise, offeredTools, type ChatTurn, type EmbeddingRequest, type EmbeddingResult, type GenerationRequest } from "@flotilla/protocol";
import { finishReasonOf, firstIssue, functionTools, joinUrl, parseJson, type Dialect, type Parsed, type ReportedModel, type StreamUpdate } from "./dialect.ts";

const tags = z.object({ models: z.array(z.object({ name: z.string().min(1).max(128) })) });

const ollamaCall = z.object({ function: z.object({ name: z.string().min(1).max(64), arguments: z.unknown() }) });

const line = z.object({
  message: z.object({ content: z.string().optional(), tool_calls: z.array(ollamaCall).max(128).optional() }).optional(),
  response: z.string().optional(),
  done: z.boolean().default(false),
  done_reason: z.string().optional(),
  // Absent when the whole prompt came from Ollama's cache.
  prompt_eval_count: z.int().min(0).optional(),
  eval_count: z.int().min(0).optional(),
  error: z.string().optional(),
});

function parseModels(body: unknown): Parsed<ReportedModel[]> {
  const parsed = tags.safeParse(body);
  if (!parsed.success) return { ok: false, error: `unexpected model list: ${firstIssue(parsed.error.issues)}` };
  // /api/tags says nothing about context: the caller fills in its default.
  return { ok: true, value: parsed.data.models.map((m) => ({ id: m.name })) };
}

function generation(base: string, request: GenerationRequest): { url: URL; body: unknown } {
  const p = request.params;
  const options = {
    num_predict: p.maxTokens,
    temperature: p.temperature,
    top_p: p.topP,
    top_k: p.topK,
    seed: p.seed,
    stop: p.stop.length === 0 ? undefined : p.stop,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
  };
  const format = p.responseFormat === undefined ? {} : { format: p.responseFormat.type === "json" ? "json" : p.responseFormat.schema };
  if (request.input.kind === "completion") {
    // raw: /v1/completions continues the prompt as written; without it
    // Ollama would wrap the prompt in the model's chat template.
    return { url: joinUrl(base, "api/generate"), body: { model: request.model, prompt: request.input.prompt, raw: true, stream: true, options, ...format } };
  }
  // Ollama has no tool_choice: it offers the tools and the model decides (ADR 0030).
  const { messages, tools } = request.input;
  const body = {
    model: request.model,
    messages: ollamaMessages(messages),
    stream: true,
    options,
    ...format,
    ...(tools === undefined || offeredTools(request.input).length === 0 ? {} : { tools: functionTools(tools) }),
  };
  return { url: joinUrl(base, "api/chat"), body };
}

/** Ollama's messages: calls carry their arguments as objects, and a result names the function it came from. */
function ollamaMessages(turns: readonly ChatTurn[]): unknown[] {
  const names = new Map<string, string>();
  return turns.map((turn) => {
    switch (turn.role) {
      case "assistant":
        if (turn.toolCalls === undefined) return { role: "assistant", content: turn.content };
        for (const c of turn.toolCalls) names.set(c.id, c.name);
        return { role: "assistant", content: turn.content, tool_calls: turn.toolCalls.map((c) => ({ function: { name: c.name, arguments: argumentsObject(c.arguments) } })) };
      case "tool":
        return { role: "tool", content: turn.content, ...(names.has(turn.toolCallId) ? { tool_name: names.get(turn.toolCallId) } : {}) };
      case "system":
      case "user":
        return { role: turn.role, content: turn.content };
    }
  });
}

function argumentsObject(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

function parseEvent(payload: string): Parsed<StreamUpdate> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const parsed = line.safeParse(json.value);
  if (!parsed.success) return { ok: false, error: `unexpected stream line: ${firstIssue(parsed.error.issues)}` };
  const l = parsed.data;
  if (l.error !== undefined) return { ok: false, error: l.error };
  const update: StreamUpdate = { text: l.message?.content ?? l.response ?? "", done: l.done };
  const calls = l.message?.tool_calls;
  if (calls && calls.length > 0) {
    // Whole calls, with no ids of their own: flotilla gives them OpenAI-style ones.
    update.toolCalls = calls.map((c) => ({ id: `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`, name: c.function.name, argumentsDelta: JSON.stringify(c.function.arguments ?? {}) }));
  }
  if (l.done) {
    update.finishReason = finishReasonOf(l.done_reason ?? "stop");
    update.usage = { promptTokens: l.prompt_eval_count ?? 0, completionTokens: l.eval_count ?? 0 };
  }
  return { ok: true, value: update };
}

const embedAnswer = z.object({
  embeddings: z.array(z.array(z.number())),
  prompt_eval_count: z.int().min(0).optional(),
});

/**
 * Ollama's /api/embed takes texts only; token arrays are refused before the
 * call (by the caller) and `dimensions` is passed as Ollama's own option.
 */
function embeddings(base: string, request: EmbeddingRequest): { url: URL; body: unknown } {
  const { items, dimensions } = request.input;
  return { url: joinUrl(base, "api/embed"), body: { model: request.model, input: items, truncate: false, dimensions } };
}

function parseEmbeddings(body: unknown): Parsed<EmbeddingResult> {
  const parsed = embedAnswer.safeParse(body);
  if (!parsed.success) return { ok: false, error: `unexpected embed answer: ${firstIssue(parsed.error.issues)}` };
  return { ok: true, value: { vectors: parsed.data.embeddings.map(normalise), promptTokens: parsed.data.prompt_eval_count ?? 0 } };
}

export const ollamaDialect: Dialect = {
  healthUrl: (base) => joinUrl(base, "api/tags"),
  parseModels,
  generation,
  framing: "ndjson",
  parseEvent,
  embeddings,
  parseEmbeddings,
};
