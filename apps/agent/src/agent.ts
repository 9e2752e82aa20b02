// The agent's serving core: it owns the served models (served/served-model.ts)
// and admits each request through the model's SlotPool. `flotilla up` hands
// this object to the coordinator directly (no HTTP hop); `flotilla agent`
// serves it over HTTP to a coordinator elsewhere.
//
// Models given a keep-alive (--keep-alive) are unloaded when idle for it and
// loaded again on demand; before loading one, idle models are unloaded, least
// recently used first, while free memory is short of its file's size.
import { freemem } from "node:os";
import {
  capabilityOf,
  FLOTILLA_VERSION,
  FlotillaError,
  type AgentLoad,
  type AssignmentReport,
  type ModelInfo,
  type RunOptions,
  type Workload,
  type WorkloadHost,
  type WorkloadResult,
} from "@flotilla/protocol";
import type { InferenceBackend } from "./backends/backend.ts";
import { CpuMeter } from "./load/cpu-meter.ts";
import { ServedModel, type Reload } from "./served/served-model.ts";

export interface QueueOptions {
  /** Requests that may wait for a slot, per model. */
  maxQueued: number;
  maxWaitMs: number;
}

export interface AgentOptions {
  /** Clock of keep-alives; default Date.now. */
  nowMs?: () => number;
  /** Free memory now; default os.freemem. */
  freeMemoryBytes?: () => number;
  /** How often idle models are looked for; default 1 s. */
  idleCheckMs?: number;
}

/** What the agent reports of its roamer assignment (issue 17): the AssignmentKeeper. */
export interface AssignmentSource {
  templates(): string[];
  report(nowMs: number): AssignmentReport | null;
}

/** How long a removed model's running requests may take to finish before it is unloaded under them. */
export const DEFAULT_DRAIN_MS = 30_000;

/** Loading a model takes about its file's size in memory, and a margin for its context. */
const MEMORY_MARGIN = 1.2;

export class Agent implements WorkloadHost {
  readonly #queue: QueueOptions;
  readonly #served = new Map<string, ServedModel>();
  readonly #cpu = new CpuMeter();
  readonly #nowMs: () => number;
  readonly #freeMemory: () => number;
  readonly #idleCheckMs: number;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Removed models still finishing their requests: close() waits for them. */
  readonly #removing = new Set<Promise<void>>();
  #assignments: AssignmentSource | undefined;
  readonly #listeners: (() => void)[] = [];
  /** Loads under way (room being made, then the model loading), by model id. */
  readonly #loads = new Map<string, Promise<void>>();

  constructor(queue: QueueOptions, options: AgentOptions = {}) {
    this.#queue = queue;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#freeMemory = options.freeMemoryBytes ?? freemem;
    this.#idleCheckMs = options.idleCheckMs ?? 1_000;
  }

  /** Serves a loaded backend; with `reload`, it is unloaded after its keep-alive and loaded again on demand. */
  addBackend(backend: InferenceBackend, nowMs: number, reload?: Reload): void {
    if (this.#served.has(backend.modelId)) {
      throw new Error(`two models are both named "${backend.modelId}"; name one with --model NAME=PATH`);
    }
    this.#served.set(backend.modelId, new ServedModel(backend, this.#queue, nowMs, reload));
    if (reload !== undefined && this.#idleTimer === undefined) {
      this.#idleTimer = setInterval(() => void this.unloadIdle(), this.#idleCheckMs);
      this.#idleTimer.unref();
    }
  }

  /**
   * Stops serving `modelId`: a new request gets model_not_found at once and
   * one waiting for a slot a retryable server_busy (the coordinator tries
   * another node); the running ones may finish within `drainMs`, then the
   * model is unloaded. False when it was not served.
   */
  async removeBackend(modelId: string, drainMs = DEFAULT_DRAIN_MS): Promise<boolean> {
    const served = this.#served.get(modelId);
    if (!served) return false;
    this.#served.delete(modelId);
    served.slots.close(new FlotillaError("server_busy", `"${modelId}" is being unloaded from this node`, { retryAfterS: 1 }));
    const removal = drainThenDispose(served, drainMs);
    this.#removing.add(removal);
    try {
      await removal;
    } finally {
      this.#removing.delete(removal);
    }
    return true;
  }

  serves(modelId: string): boolean {
    return this.#served.has(modelId);
  }

  /** Called when a model is unloaded for being idle or loaded again: the heartbeat goes out at once (HeartbeatLoop.beatSoon). */
  onModelsChanged(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Its templates and assignment go out in every load report from now on. */
  attachAssignments(source: AssignmentSource): void {
    this.#assignments = source;
  }

  load(): AgentLoad {
    const models = [...this.#served.values()].map((served) => served.report());
    return {
      models,
      // Every request holds a slot or waits for one.
      inFlight: models.reduce((n, m) => n + m.slots.busy + m.slots.queued, 0),
      cpuPercent: this.#cpu.percentSinceLastCall(),
      rssBytes: process.memoryUsage.rss(),
      memoryAvailableBytes: this.#freeMemory(),
      agentVersion: FLOTILLA_VERSION,
      ...(this.#assignments ? { templates: this.#assignments.templates(), assignment: this.#assignments.report(this.#nowMs()) } : {}),
    };
  }

  modelInfo(modelId: string): ModelInfo | undefined {
    return this.#served.get(modelId)?.info();
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    const served = this.#served.get(workload.model);
    if (!served) throw new FlotillaError("model_not_found", `this node does not serve "${workload.model}"`, { param: "model" });
    const needed = capabilityOf(workload);
    if (!served.capabilities.includes(needed)) {
      throw new FlotillaError("model_not_capable", `"${workload.model}" does not serve ${needed} requests`, { param: "model" });
    }
    // Not loaded (idle unload): load it, and wait for it as for a slot, rather than refuse at once.
    if (served.state === "unloaded") this.loadModel(workload.model);
    // Only when one is under way: otherwise the slot is taken in this same turn, before an idle unload can run.
    if (this.#loads.has(workload.model)) await this.#waitForLoad(workload.model, options.signal);
    return served.run(workload, options, this.#nowMs);
  }

  /** Loads an unloaded model (making room first); false when it has no such model or it is loaded or loading. */
  loadModel(modelId: string): boolean {
    const served = this.#served.get(modelId);
    if (served?.state !== "unloaded" || this.#loads.has(modelId)) return false;
    const load = this.#makeRoomFor(served)
      .then(() => {
        served.startLoading(this.#nowMs);
        return served.loaded();
      })
      .finally(() => {
        this.#loads.delete(modelId);
        this.#changed();
      });
    this.#loads.set(modelId, load);
    return true;
  }

  /**
   * Waits, as a request waits for a slot (up to maxWaitMs, or its signal), for
   * a model being loaded; a load that takes longer is refused as busy by the
   * model itself, and the request is retried elsewhere or later.
   */
  async #waitForLoad(modelId: string, signal: AbortSignal): Promise<void> {
    const load = this.#loads.get(modelId);
    if (load === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        load,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#queue.maxWaitMs);
          onAbort = resolve;
          signal.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    }
    signal.throwIfAborted();
  }

  /** Unloads every model idle for its keep-alive; the timer calls it, tests too. */
  async unloadIdle(): Promise<string[]> {
    const now = this.#nowMs();
    const idle = [...this.#served.values()].filter((served) => served.idleAt(now));
    await Promise.all(idle.map((served) => served.unload()));
    if (idle.length > 0) this.#changed();
    return idle.map((served) => served.id);
  }

  /** Unloads idle reloadable models, least recently used first, while free memory is short of what `model` needs. */
  async #makeRoomFor(model: ServedModel): Promise<void> {
    const needed = model.sizeBytes * MEMORY_MARGIN;
    const candidates = [...this.#served.values()].filter((served) => served !== model && served.evictable).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const served of candidates) {
      if (this.#freeMemory() >= needed) return;
      await served.unload();
    }
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  async close(): Promise<void> {
    clearInterval(this.#idleTimer);
    const served = [...this.#served.values()];
    this.#served.clear();
    await Promise.all([...served.map((s) => s.dispose()), ...this.#removing]);
  }
}

async function drainThenDispose(served: ServedModel, drainMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, drainMs);
  });
  try {
    await Promise.race([served.slots.idle(), deadline]);
  } finally {
    clearTimeout(timer);
  }
  await served.dispose();
}
