// Ollama's native API: /api/tags lists the models pulled, /api/chat and
// /api/generate stream newline-delimited JSON whose last line (done: true)
// carries the token counts.
import { z } from "zod";
import { normalise, type EmbeddingRequest, type EmbeddingResult, type GenerationRequest } from "@flotilla/protocol";
import { finishReasonOf, firstIssue, joinUrl, parseJson, type Dialect, type Parsed, type ReportedModel, type StreamUpdate } from "./dialect.ts";

const tags = z.object({ models: z.array(z.object({ name: z.string().min(1).max(128) })) });

const line = z.object({
  message: z.object({ content: z.string().optional() }).optional(),
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
    seed: p.seed,
    stop: p.stop.length === 0 ? undefined : p.stop,
    presence_penalty: p.presencePenalty,
    frequency_penalty: p.frequencyPenalty,
  };
  return request.input.kind === "chat"
    ? { url: joinUrl(base, "api/chat"), body: { model: request.model, messages: request.input.messages, stream: true, options } }
    : // raw: /v1/completions continues the prompt as written; without it
      // Ollama would wrap the prompt in the model's chat template.
      { url: joinUrl(base, "api/generate"), body: { model: request.model, prompt: request.input.prompt, raw: true, stream: true, options } };
}

function parseEvent(payload: string): Parsed<StreamUpdate> {
  const json = parseJson(payload);
  if (!json.ok) return json;
  const parsed = line.safeParse(json.value);
  if (!parsed.success) return { ok: false, error: `unexpected stream line: ${firstIssue(parsed.error.issues)}` };
  const l = parsed.data;
  if (l.error !== undefined) return { ok: false, error: l.error };
  const update: StreamUpdate = { text: l.message?.content ?? l.response ?? "", done: l.done };
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
