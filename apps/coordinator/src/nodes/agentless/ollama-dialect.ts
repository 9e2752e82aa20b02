// Ollama's native API: /api/tags lists the models pulled, /api/chat and
// /api/generate stream newline-delimited JSON whose last line (done: true)
// carries the token counts.
import { z } from "zod";
import { randomUUID } from "node:crypto";
import { modelDetails, normalise, offeredTools, type ChatTurn, type ModelDetails, type EmbeddingRequest, type EmbeddingResult, type GenerationRequest } from "@flotilla/protocol";
import { finishReasonOf, firstIssue, functionTools, joinUrl, parseJson, type Dialect, type Parsed, type ReportedModel, type StreamUpdate } from "./dialect.ts";

// Only the name is needed to serve a model; the rest is read where it is
// well formed (details are shown, never routed on), so an odd field of one
// Ollama version costs a detail, not the node.
const tags = z.object({
  models: z.array(
    z.object({
      name: z.string().min(1).max(128),
      size: z.unknown().optional(),
      digest: z.unknown().optional(),
      modified_at: z.unknown().optional(),
      details: z.unknown().optional(),
    }),
  ),
});

const tagDetails = z.object({
  format: z.string().optional(),
  family: z.string(),
  families: z.array(z.string()).nullish(),
  parameter_size: z.string().optional(),
  quantization_level: z.string().optional(),
});

/** Ollama's tag entry → flotilla's model details, or undefined where Ollama's fields do not make them. */
function detailsOf(entry: z.infer<typeof tags>["models"][number]): ModelDetails | undefined {
  const parsed = tagDetails.safeParse(entry.details);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  const modifiedAtMs = typeof entry.modified_at === "string" ? Date.parse(entry.modified_at) : Number.NaN;
  const details = modelDetails.safeParse({
    format: d.format === undefined || d.format === "" ? "gguf" : d.format,
    family: d.family,
    families: d.families ?? [d.family],
    ...(d.parameter_size ? { parameterSize: d.parameter_size } : {}),
    ...(d.quantization_level ? { quantizationLevel: d.quantization_level } : {}),
    ...(typeof entry.size === "number" ? { sizeBytes: entry.size } : {}),
    // A server still hashing its file sends an empty digest: the details stand without one.
    ...(typeof entry.digest === "string" && /^(sha256:)?[0-9a-f]{64}$/.test(entry.digest) ? { digest: entry.digest.replace(/^sha256:/, "") } : {}),
    ...(Number.isFinite(modifiedAtMs) && modifiedAtMs >= 0 ? { modifiedAtMs } : {}),
  });
  return details.success ? details.data : undefined;
}

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
  return {
    ok: true,
    value: parsed.data.models.map((m) => {
      const details = detailsOf(m);
      return details === undefined ? { id: m.name } : { id: m.name, details };
    }),
  };
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
