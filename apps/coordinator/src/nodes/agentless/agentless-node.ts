// An existing inference server with no flotilla agent (llama-server, vLLM,
// LM Studio, Ollama, another flotilla): the coordinator calls its own API
// and judges its health from its own health checks (nodes/agentless/agentless-prober.ts)
// the way it judges an agent from heartbeats — a failed check is a missed beat.
import type { Dispatcher } from "undici";
import {
  FlotillaError,
  isEmbedding,
  isGeneration,
  type Capability,
  type EmbeddingRequest,
  type EmbeddingResult,
  type FinishReason,
  type GenerationRequest,
  type GenerationResult,
  type InferenceNode,
  type NodeStatus,
  type RunOptions,
  type ServedModel,
  type Tier,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";
import { readAnswer } from "../read-lines.ts";
import { judgeHealth, type HealthPolicy } from "../node-health.ts";
import { LatencyTracker, timeWorkload } from "../latency.ts";
import { parseJson, type AgentlessKind, type Dialect, type ReportedModel, type StreamUpdate } from "./dialect.ts";
import { openaiDialect } from "./openai-dialect.ts";
import { ollamaDialect } from "./ollama-dialect.ts";
import { SseDecoder } from "./sse.ts";
import { refusedHealthCheck } from "./health-problem.ts";
import { selectServedModels } from "./served-models.ts";
import { errorMessageOf, readText, readWhole, send, type NodeEndpoint } from "./node-http.ts";
import { unreachable } from "../unreachable.ts";
import { ToolCallAssembly } from "./tool-call-assembly.ts";
import { speakOn, transcribeOn } from "./openai-speech.ts";

/**
 * The server does not say how many requests it runs at once. llama-server's
 * and Ollama's defaults are 4 parallel sequences at most, so 4 is assumed:
 * with `busy` counted from the coordinator's own requests, the router still
 * prefers the least loaded node.
 */
export const AGENTLESS_SLOTS = 4;

/**
 * Context length when the server does not report one (only vLLM does): the
 * same 4096 a flotilla agent serves by default. Nothing is refused on it; the
 * server enforces its own limit.
 */
export const AGENTLESS_DEFAULT_CONTEXT = 4096;

/** A model list is a few kilobytes; a megabyte is a server that is not one. */
const MAX_HEALTH_BODY_BYTES = 1024 * 1024;

/** 2048 inputs of 4096 dimensions as JSON floats, with room to spare. */
const MAX_EMBEDDINGS_BODY_BYTES = 256 * 1024 * 1024;

/** A whole (non-streamed) answer to a generation: the largest context's text, many times over. */
const MAX_WHOLE_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * The server's list does not say what a model can do: each is taken to
 * generate, embed, call tools and write JSON to a schema (Ollama,
 * llama-server and vLLM do all four with any model they run), and a server
 * that cannot gets the request's own refusal back (ADR 0018).
 */
const AGENTLESS_CAPABILITIES = ["chat", "embed", "tools", "json"] as const;

export interface AgentlessNodeSpec {
  name: string;
  url: string;
  kind: AgentlessKind;
  tier: Tier;
  pool: string;
  /** Declared models; empty serves whatever the server reports (see agentless/served-models.ts). */
  models: string[];
  weight: number;
  labels: Record<string, string>;
  apiKey: string | undefined;
  /** Its speech models, by capability (openai kind only): the rest are language models. */
  speech?: { tts: readonly string[]; stt: readonly string[] };
}

export interface AgentlessNodeOptions {
  /** file: declared in the cluster file; api: added with `flotilla cluster add`. */
  origin: "file" | "api";
  drained: boolean;
  /** Set when the node cannot be called at all (its token's variable is unset): shown, never probed. */
  unusable?: string;
  policy: HealthPolicy;
  dispatcher: Dispatcher;
  nowMs: () => number;
}

export function dialectFor(kind: AgentlessKind): Dialect {
  return kind === "openai" ? openaiDialect : ollamaDialect;
}

export class AgentlessNode implements InferenceNode {
  readonly name: string;
  readonly spec: AgentlessNodeSpec;
  readonly origin: "file" | "api";
  drained: boolean;
  readonly #dialect: Dialect;
  readonly #endpoint: NodeEndpoint;
  readonly #o: AgentlessNodeOptions;
  #models: ReportedModel[] = [];
  /** When this coordinator first saw each model, as its loadedAtMs. */
  readonly #firstSeenMs = new Map<string, number>();
  #lastOkMs: number | null = null;
  #problem: string | undefined;
  /** Requests this coordinator has in flight on the node, per model. */
  readonly #inFlight = new Map<string, number>();
  readonly #latency = new LatencyTracker();

  constructor(spec: AgentlessNodeSpec, options: AgentlessNodeOptions) {
    this.name = spec.name;
    this.spec = spec;
    this.origin = options.origin;
    this.drained = options.drained;
    this.#dialect = dialectFor(spec.kind);
    this.#endpoint = { name: spec.name, apiKey: spec.apiKey, dispatcher: options.dispatcher };
    this.#o = options;
    this.#problem = options.unusable;
  }

  status(nowMs: number): NodeStatus {
    const inFlight = [...this.#inFlight.values()].reduce((a, b) => a + b, 0);
    return {
      name: this.name,
      kind: this.spec.kind,
      health: judgeHealth(this.#lastOkMs, nowMs, this.#o.policy),
      drained: this.drained,
      tier: this.spec.tier,
      pool: this.spec.pool,
      url: this.spec.url,
      models: this.#models.map((m) => this.#served(m, nowMs)),
      inFlight,
      hardware: null,
      lastSeenAgoMs: this.#lastOkMs === null ? null : nowMs - this.#lastOkMs,
      latency: this.#latency.snapshot(),
      weight: this.spec.weight,
      labels: this.spec.labels,
      ...(this.#problem === undefined ? {} : { error: this.#problem }),
    };
  }

  /** One health check: GET the model list within `timeoutMs` and remember what it says. */
  async checkHealth(timeoutMs: number): Promise<void> {
    if (this.#o.unusable !== undefined) return;
    const signal = AbortSignal.timeout(timeoutMs);
    let problem: string | undefined;
    const started = performance.now();
    try {
      const { body } = await send(this.#endpoint, "GET", this.#dialect.healthUrl(this.spec.url), undefined, signal, false);
      const json = parseJson(await readText(body, MAX_HEALTH_BODY_BYTES));
      if (!json.ok) throw new Error(`its model list is ${json.error}`);
      const reported = this.#dialect.parseModels(json.value);
      if (!reported.ok) throw new Error(reported.error);
      // Speech models are declared models too: a list of language models must not hide them.
      const declared = this.spec.models.length === 0 ? [] : [...this.spec.models, ...(this.spec.speech?.tts ?? []), ...(this.spec.speech?.stt ?? [])];
      const { models, missing } = selectServedModels(this.spec.kind, declared, reported.value);
      const nowMs = this.#o.nowMs();
      this.#models = models;
      for (const m of models) if (!this.#firstSeenMs.has(m.id)) this.#firstSeenMs.set(m.id, nowMs);
      this.#lastOkMs = nowMs;
      // The probe is already made, so its round trip is free to show: the
      // server's responsiveness even before (or between) any generations.
      // Only a successful check: a timeout would just record the timeout.
      this.#latency.recordProbe(performance.now() - started);
      if (missing.length > 0) problem = `the server does not serve the declared model(s) ${missing.join(", ")}`;
    } catch (err) {
      const refused = err instanceof FlotillaError && err.code === "rejected_by_node" ? refusedHealthCheck(err.status, this.spec.apiKey !== undefined) : undefined;
      problem = signal.aborted ? `no answer to the health check within ${timeoutMs} ms` : (refused ?? (err as Error).message);
    }
    this.#problem = problem;
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    const model = workload.model;
    this.#inFlight.set(model, (this.#inFlight.get(model) ?? 0) + 1);
    try {
      return await timeWorkload(this.#latency, workload, options, async (timed): Promise<WorkloadResult> => {
        if (isGeneration(workload)) return { kind: "generation", ...(await this.#generate(workload, timed)) };
        if (isEmbedding(workload)) return { kind: "embedding", ...(await this.#embed(workload, timed.signal)) };
        // Only to models declared under `speech`: the router sends speech to nothing else.
        if (workload.input.kind === "speech") return { kind: "speech", ...(await speakOn(this.#endpoint, this.spec.url, { ...workload, input: workload.input }, timed.signal)) };
        return { kind: "transcription", ...(await transcribeOn(this.#endpoint, this.spec.url, { ...workload, input: workload.input }, timed.signal)) };
      });
    } finally {
      const left = (this.#inFlight.get(model) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(model);
      else this.#inFlight.set(model, left);
    }
  }

  async #embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    if (this.spec.kind === "ollama" && request.input.items.some((item) => typeof item !== "string")) {
      throw new FlotillaError("unsupported_parameter", `node ${this.name} (Ollama) embeds text only, not token arrays`, { param: "input" });
    }
    const { url, body } = this.#dialect.embeddings(this.spec.url, request);
    const answer = await send(this.#endpoint, "POST", url, body, signal, true);
    const json = parseJson((await readWhole(this.#endpoint, answer, MAX_EMBEDDINGS_BODY_BYTES, signal)).toString("utf8"));
    const parsed = json.ok ? this.#dialect.parseEmbeddings(json.value) : json;
    if (!parsed.ok) throw new FlotillaError("backend_error", `node ${this.name} failed: ${parsed.error}`);
    if (parsed.value.vectors.length !== request.input.items.length) {
      throw new FlotillaError("backend_error", `node ${this.name} sent ${parsed.value.vectors.length} embeddings for ${request.input.items.length} inputs`);
    }
    return parsed.value;
  }

  async #generate(request: GenerationRequest, options: RunOptions): Promise<GenerationResult> {
    const { url, body } = this.#dialect.generation(this.spec.url, request);
    // No connectTimeoutMs here: servers like llama-server and Ollama send their
    // head with the first token, after the prompt is read; the first-token
    // timeout covers them (the pool's connect timeout covers the connection).
    const answer = await send(this.#endpoint, "POST", url, body, options.signal, true);
    const stream = answer.body;
    // Asked for a stream, some servers answer with one JSON completion: read as one event.
    const whole = answer.contentType === "application/json" && this.#dialect.framing === "sse";
    const sse = this.#dialect.framing === "sse" && !whole ? new SseDecoder() : undefined;
    let text = "";
    const calls = new ToolCallAssembly(options.onChunk);
    let finishReason: FinishReason | undefined;
    let usage: StreamUpdate["usage"];
    /** Applies one event; true once the server says the answer is complete. */
    const apply = (payload: string, isError: boolean): boolean => {
      const parsed = isError ? undefined : this.#dialect.parseEvent(payload);
      if (!parsed?.ok) {
        throw new FlotillaError("backend_error", `node ${this.name} failed: ${parsed ? parsed.error : (errorMessageOf(payload) ?? "it sent an error event")}`);
      }
      const update = parsed.value;
      if (update.text !== "") {
        text += update.text;
        // Servers stream one token an event: the count the resumption budget needs.
        options.onChunk?.({ type: "text", text: update.text, tokens: 1 });
      }
      for (const piece of update.toolCalls ?? []) calls.add(piece);
      finishReason = update.finishReason ?? finishReason;
      usage = update.usage ?? usage;
      return update.done;
    };
    try {
      if (whole) {
        apply(await readText(stream, MAX_WHOLE_ANSWER_BYTES), false);
        if (finishReason === undefined) throw new FlotillaError("backend_error", `node ${this.name} sent a JSON answer that does not say it is complete`);
        return { text, ...calls.result(finishReason), promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0 };
      }
      const complete = await readAnswer(stream, (line) => {
        if (!sse) return line.trim() !== "" && apply(line, false);
        const event = sse.push(line);
        return event !== undefined && apply(event.data, event.error);
      });
      // An SSE event not followed by a blank line before the end still counts.
      const last = complete ? undefined : sse?.end();
      if (last) apply(last.data, last.error);
    } catch (err) {
      if (options.signal.aborted || err instanceof FlotillaError) throw err;
      throw unreachable(this.name, err);
    }
    // A stream that ends without [DONE] is accepted once it said why it
    // stopped; one cut off before that is a failure, not a short answer.
    if (finishReason === undefined) throw new FlotillaError("backend_error", `node ${this.name} ended its answer without finishing it`);
    return { text, ...calls.result(finishReason), promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0 };
  }

  #capabilitiesOf(id: string): Capability[] {
    if (this.spec.speech?.tts.includes(id) === true) return ["tts"];
    if (this.spec.speech?.stt.includes(id) === true) return ["stt"];
    return [...AGENTLESS_CAPABILITIES];
  }

  #served(model: ReportedModel, nowMs: number): ServedModel {
    const inFlight = this.#inFlight.get(model.id) ?? 0;
    return {
      id: model.id,
      contextSize: model.contextSize ?? AGENTLESS_DEFAULT_CONTEXT,
      ...(model.contextSize === undefined ? { contextSizeAssumed: true } : {}),
      loadedAtMs: this.#firstSeenMs.get(model.id) ?? nowMs,
      slots: { total: AGENTLESS_SLOTS, busy: Math.min(inFlight, AGENTLESS_SLOTS), queued: Math.max(0, inFlight - AGENTLESS_SLOTS) },
      capabilities: this.#capabilitiesOf(model.id),
      ...(model.details === undefined ? {} : { details: model.details }),
    };
  }
}
