// A model served by a program the agent runs (a process template's `serve`,
// issue 17): each workload is one request to the program's OpenAI-compatible
// API on this machine. Generation streams (SSE) and is passed on chunk by
// chunk (text and tool calls); embeddings are answered whole. Aborting the run's signal aborts the
// request to the program, which stops generating.
import { FlotillaError, isEmbedding, isGeneration, type Capability, type GenerationRequest, type GenerationResult, type RunOptions, type Workload, type WorkloadResult } from "@flotilla/protocol";
import type { InferenceBackend } from "./backend.ts";
import { ToolCallAssembly } from "./openai-tool-calls.ts";
import { embeddingCall, generationCall, parseEmbeddings, parseStreamEvent, refusal, streamError, type StreamUpdate, type UpstreamCall } from "./openai-wire.ts";

export interface OpenAIUpstreamOptions {
  modelId: string;
  /** The `model` the program is asked for. */
  upstreamModel: string;
  /** The program's base URL, with or without /v1. */
  url: string;
  contextSize: number;
  slots: number;
  capabilities: readonly Capability[];
}

/** An embeddings answer larger than this is the program failing. */
const MAX_WHOLE_ANSWER_CHARS = 64 * 1024 * 1024;

export class OpenAIUpstreamBackend implements InferenceBackend {
  readonly modelId: string;
  readonly contextSize: number;
  readonly parallelSequences: number;
  readonly capabilities: readonly Capability[];
  readonly #upstreamModel: string;
  readonly #base: string;

  constructor(options: OpenAIUpstreamOptions) {
    this.modelId = options.modelId;
    this.contextSize = options.contextSize;
    this.parallelSequences = options.slots;
    this.capabilities = [...options.capabilities];
    this.#upstreamModel = options.upstreamModel;
    const base = options.url.replace(/\/+$/, "");
    this.#base = base.endsWith("/v1") ? base : `${base}/v1`;
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    if (isGeneration(workload)) return { kind: "generation", ...(await this.#generate(workload, options)) };
    if (isEmbedding(workload)) {
      const response = await this.#post(embeddingCall(this.#upstreamModel, workload), options.signal);
      const text = await this.#read(() => response.text(), options.signal);
      if (text.length > MAX_WHOLE_ANSWER_CHARS) throw new FlotillaError("backend_error", "the program sent an embeddings answer too large to take");
      return { kind: "embedding", ...parseEmbeddings(text, workload.input.items.length) };
    }
    throw new FlotillaError("model_not_capable", `"${this.modelId}" does not serve ${workload.input.kind} requests`, { param: "model" });
  }

  /** The program is the process driver's: nothing to free here. */
  dispose(): Promise<void> {
    return Promise.resolve();
  }

  async #generate(request: GenerationRequest, options: RunOptions): Promise<GenerationResult> {
    const response = await this.#post(generationCall(this.#upstreamModel, request), options.signal);
    let text = "";
    let events = 0;
    const calls = new ToolCallAssembly(options.onChunk);
    let finishReason: GenerationResult["finishReason"] | undefined;
    let usage: StreamUpdate["usage"];
    const apply = (update: StreamUpdate): boolean => {
      if (update.text !== "") {
        text += update.text;
        events++;
        // Servers stream about one token an event.
        options.onChunk?.({ type: "text", text: update.text, tokens: 1 });
      }
      for (const piece of update.toolCalls ?? []) calls.add(piece);
      finishReason = update.finishReason ?? finishReason;
      usage = update.usage ?? usage;
      return update.done;
    };
    await this.#read(async () => {
      // Asked for a stream, some servers answer with one JSON completion: read as one event.
      if ((response.headers.get("content-type") ?? "").startsWith("application/json")) {
        apply(parseStreamEvent(await response.text()));
        return;
      }
      for await (const event of sseEvents(response)) {
        if (event.error) throw streamError(event.data);
        if (apply(parseStreamEvent(event.data))) break;
      }
    }, options.signal);
    // A stream cut off before it said why it stopped is a failure, not a short answer.
    if (finishReason === undefined) throw new FlotillaError("backend_error", "the program ended its answer without finishing it");
    return { text, ...calls.result(finishReason), promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? events };
  }

  async #post(call: UpstreamCall, signal: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}/${call.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream, application/json" },
        body: JSON.stringify(call.body),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw unreachable(this.#base, err);
    }
    if (response.ok) return response;
    const body = await response.text().catch(() => "");
    throw refusal(response.status, body.slice(0, 4_096), response.headers.get("retry-after"));
  }

  /** Reads an answer: an abort is thrown as its reason, a broken connection as the program failing. */
  async #read<T>(read: () => Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof FlotillaError) throw err;
      throw unreachable(this.#base, err);
    }
  }
}

function unreachable(base: string, err: unknown): FlotillaError {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
  return new FlotillaError("backend_error", `the program at ${base} did not answer: ${cause}`, { cause: err });
}

/**
 * Each server-sent event: its data lines joined, and whether it is an error (llama-server sends an
 * `error:` field, others `event: error`). An event the stream ends on without a blank line is kept.
 */
async function* sseEvents(response: Response): AsyncGenerator<{ data: string; error: boolean }> {
  if (response.body === null) return;
  let rest = "";
  let data: string[] = [];
  let error = false;
  const line = function* (raw: string): Generator<{ data: string; error: boolean }> {
    const l = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (l === "") {
      if (data.length > 0) yield { data: data.join("\n"), error };
      data = [];
      error = false;
      return;
    }
    const colon = l.indexOf(":");
    const field = colon === -1 ? l : l.slice(0, colon);
    const value = colon === -1 ? "" : l.slice(colon + (l[colon + 1] === " " ? 2 : 1));
    if (field === "data" || field === "error") data.push(value);
    if (field === "error" || (field === "event" && value === "error")) error = true;
  };
  for await (const piece of response.body.pipeThrough(new TextDecoderStream())) {
    rest += piece;
    for (let nl = rest.indexOf("\n"); nl !== -1; nl = rest.indexOf("\n")) {
      yield* line(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  yield* line(rest);
  yield* line("");
}
