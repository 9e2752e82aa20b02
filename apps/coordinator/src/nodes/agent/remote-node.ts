// An agent on another machine (or another process), known from its join and
// kept current by its heartbeats. Workloads go over HTTP to the agent's API,
// which answers newline-delimited JSON events (protocol agent-api.ts); aborting the signal closes the
// connection, which cancels the work on the agent.
import { request, type Dispatcher } from "undici";
import {
  agentEvent,
  assignmentResponse,
  type AssignmentReport,
  type AssignmentRequest,
  FlotillaError,
  modelInfo,
  type ModelInfo,
  type AgentLoad,
  type HardwareInfo,
  type InferenceNode,
  type NodeStatus,
  type RunOptions,
  type Tier,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";
import { readAnswer } from "../read-lines.ts";
import { unreachable } from "../unreachable.ts";
import { judgeHealth, type HealthPolicy } from "../node-health.ts";
import { LatencyTracker, timeWorkload } from "../latency.ts";
import { listedModels, type RememberedModels } from "./remembered-models.ts";

export interface RemoteNodeRecord {
  id: string;
  name: string;
  url: string;
  tier: Tier;
  pool: string;
  hardware: HardwareInfo | null;
  drained: boolean;
}

export class RemoteNode implements InferenceNode {
  readonly name: string;
  record: RemoteNodeRecord;
  #load: AgentLoad | null = null;
  #lastSeenMs: number | null = null;
  readonly #credential: string;
  readonly #policy: HealthPolicy;
  readonly #dispatcher: Dispatcher;
  readonly #latency = new LatencyTracker();
  /** What it served before this coordinator started, listed until it is heard from (remembered-models.ts). */
  readonly #remembered: RememberedModels | undefined;

  constructor(record: RemoteNodeRecord, credential: string, policy: HealthPolicy, dispatcher: Dispatcher, remembered?: RememberedModels) {
    this.name = record.name;
    this.#remembered = remembered;
    this.record = record;
    this.#credential = credential;
    this.#policy = policy;
    this.#dispatcher = dispatcher;
  }

  /** What the coordinator cut from the last report (load-limits.ts), shown in status. */
  #limits: readonly string[] = [];

  heard(load: AgentLoad, nowMs: number, limits: readonly string[] = []): void {
    this.#load = load;
    this.#limits = limits;
    this.#lastSeenMs = nowMs;
  }

  status(nowMs: number): NodeStatus {
    const health = judgeHealth(this.#lastSeenMs, nowMs, this.#policy);
    // Down: its last heartbeat's busy slots are long gone (or never finish); it holds nothing.
    const models = listedModels(this.#load, this.#remembered, nowMs).map((m) => (health === "down" ? { ...m, slots: { ...m.slots, busy: 0, queued: 0 } } : m));
    return {
      name: this.name,
      kind: "agent",
      health,
      drained: this.record.drained,
      tier: this.record.tier,
      pool: this.record.pool,
      url: this.record.url,
      models,
      inFlight: health === "down" ? 0 : (this.#load?.inFlight ?? 0),
      hardware: this.record.hardware,
      lastSeenAgoMs: this.#lastSeenMs === null ? null : nowMs - this.#lastSeenMs,
      latency: this.#latency.snapshot(),
      ...(this.#limits.length > 0 ? { limits: [...this.#limits] } : {}),
      ...(this.#load?.templates === undefined ? {} : { templates: [...this.#load.templates] }),
      ...(this.#load?.assignment === undefined ? {} : { assignment: this.#load.assignment }),
    };
  }

  /** The agent's larger facts of one model (Ollama's /api/show); undefined when it does not serve it. */
  async modelInfo(modelId: string, signal: AbortSignal): Promise<ModelInfo | undefined> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(new URL(`/agent/v1/models/${encodeURIComponent(modelId)}/info`, this.record.url), {
        method: "GET",
        dispatcher: this.#dispatcher,
        headers: { authorization: `Bearer ${this.#credential}` },
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw unreachable(this.name, err);
    }
    // 404: an agent that does not serve it, or one older than this route.
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new FlotillaError("backend_error", `node ${this.name} answered HTTP ${response.statusCode}`);
    }
    const parsed = modelInfo.safeParse(await response.body.json());
    if (!parsed.success) throw new FlotillaError("backend_error", `node ${this.name} sent malformed model info`);
    return parsed.data;
  }

  /**
   * Asks the agent to provision a template for a pool (PUT), or to stop and
   * clean up what it runs (DELETE): its answer is its report. A refusal (a
   * template its configuration does not list, another assignment) is a
   * FlotillaError with the agent's own message; an agent that cannot be
   * reached is `unreachable`.
   */
  async assignment(change: AssignmentRequest | null, signal: AbortSignal): Promise<AssignmentReport | null> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(new URL("/agent/v1/assignment", this.record.url), {
        method: change === null ? "DELETE" : "PUT",
        dispatcher: this.#dispatcher,
        headers: { authorization: `Bearer ${this.#credential}`, ...(change === null ? {} : { "content-type": "application/json" }) },
        ...(change === null ? {} : { body: JSON.stringify(change) }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw unreachable(this.name, err);
    }
    const text = await response.body.text();
    if (response.statusCode >= 400 && response.statusCode < 500) {
      // The agent's refusal, quoted (bounded): it names a template from this coordinator's own file, no secret.
      const message = messageOf(text) ?? `HTTP ${response.statusCode}`;
      throw new FlotillaError(response.statusCode === 409 ? "conflict" : "rejected_by_node", `node ${this.name} refused: ${message.slice(0, 500)}`, { status: response.statusCode });
    }
    if (response.statusCode !== 200 && response.statusCode !== 202) throw new FlotillaError("backend_error", `node ${this.name} answered HTTP ${response.statusCode}`);
    const parsed = assignmentResponse.safeParse(safeJson(text));
    if (!parsed.success) throw new FlotillaError("backend_error", `node ${this.name} sent a malformed assignment report`);
    return parsed.data.assignment;
  }

  /** Asks the agent to load a model it unloaded when idle; its next heartbeat says when it is loaded. */
  loadModel(modelId: string): void {
    void request(new URL(`/agent/v1/models/${encodeURIComponent(modelId)}/load`, this.record.url), {
      method: "POST",
      dispatcher: this.#dispatcher,
      headers: { authorization: `Bearer ${this.#credential}` },
      signal: AbortSignal.timeout(10_000),
    }).then(
      (response) => response.body.dump(),
      // Best effort: a request that reaches the agent loads the model anyway.
      () => {},
    );
  }

  /** Timed from here, so the figure includes the network and the agent's queue: what a client waits. */
  run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    return timeWorkload(this.#latency, workload, options, (timed) => this.#run(workload, timed));
  }

  async #run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(new URL("/agent/v1/run", this.record.url), {
        method: "POST",
        dispatcher: this.#dispatcher,
        headers: { authorization: `Bearer ${this.#credential}`, "content-type": "application/json" },
        body: JSON.stringify(workload),
        // undici's request() never follows redirects: a node URL that was
        // checked against the allowlist cannot send us somewhere else.
        signal: options.signal,
        ...(options.connectTimeoutMs === undefined ? {} : { headersTimeout: options.connectTimeoutMs }),
      });
    } catch (err) {
      if (options.signal.aborted) throw err;
      throw unreachable(this.name, err);
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new FlotillaError("backend_error", `node ${this.name} answered HTTP ${response.statusCode}`);
    }
    // Text comes as chunks; the result event does not repeat it.
    let text = "";
    let result: WorkloadResult | undefined;
    try {
      await readAnswer(response.body, (line) => {
        if (line === "") return false;
        const event = agentEvent.safeParse(safeJson(line));
        if (!event.success) throw new FlotillaError("backend_error", `node ${this.name} sent a malformed event`);
        switch (event.data.event) {
          case "chunk":
            if (event.data.chunk.type === "text") text += event.data.chunk.text;
            options.onChunk?.(event.data.chunk);
            return false;
          case "result":
            result = event.data.result.kind === "generation" ? { ...event.data.result, text } : event.data.result;
            return true;
          case "failed":
            throw new FlotillaError(event.data.code, event.data.message, {
              param: event.data.param,
              ...(event.data.retryAfterS === undefined ? {} : { retryAfterS: event.data.retryAfterS }),
            });
        }
      });
    } catch (err) {
      if (options.signal.aborted || err instanceof FlotillaError) throw err;
      throw unreachable(this.name, err);
    }
    if (result) return result;
    throw new FlotillaError("backend_error", `node ${this.name} ended its answer without a result`);
  }
}

function messageOf(text: string): string | undefined {
  const body = safeJson(text);
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const error = body.error;
  return typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : undefined;
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
