// The agent's serving core: it owns the loaded backends and admits each
// request through the model's SlotPool. `flotilla up` hands this object to
// the coordinator directly (no HTTP hop); `flotilla agent` serves it over
// HTTP to a coordinator elsewhere.
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
import { SlotPool } from "./slots/slot-pool.ts";
import { CpuMeter } from "./load/cpu-meter.ts";

export interface QueueOptions {
  /** Requests that may wait for a slot, per model. */
  maxQueued: number;
  maxWaitMs: number;
}

/** What the agent reports of its roamer assignment (issue 17): the AssignmentKeeper. */
export interface AssignmentSource {
  templates(): string[];
  report(nowMs: number): AssignmentReport | null;
}

/** How long a removed model's running requests may take to finish before it is unloaded under them. */
export const DEFAULT_DRAIN_MS = 30_000;

interface Served {
  backend: InferenceBackend;
  slots: SlotPool;
  loadedAtMs: number;
}

export class Agent implements WorkloadHost {
  readonly #queue: QueueOptions;
  readonly #served = new Map<string, Served>();
  readonly #cpu = new CpuMeter();
  /** Removed models still finishing their requests: close() waits for them. */
  readonly #removing = new Set<Promise<void>>();
  #assignments: AssignmentSource | undefined;

  constructor(queue: QueueOptions) {
    this.#queue = queue;
  }

  addBackend(backend: InferenceBackend, nowMs: number): void {
    if (this.#served.has(backend.modelId)) {
      throw new Error(`two models are both named "${backend.modelId}"; name one with --model NAME=PATH`);
    }
    const slots = new SlotPool({ total: backend.parallelSequences, ...this.#queue });
    this.#served.set(backend.modelId, { backend, slots, loadedAtMs: nowMs });
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

  /** Its templates and assignment go out in every load report from now on. */
  attachAssignments(source: AssignmentSource): void {
    this.#assignments = source;
  }

  load(): AgentLoad {
    const models = [...this.#served.values()].map(({ backend, slots, loadedAtMs }) => ({
      id: backend.modelId,
      contextSize: backend.contextSize,
      loadedAtMs,
      slots: slots.status(),
      capabilities: [...backend.capabilities],
      ...(backend.facts === undefined ? {} : { details: backend.facts.details() }),
    }));
    return {
      models,
      // Every request holds a slot or waits for one.
      inFlight: models.reduce((n, m) => n + m.slots.busy + m.slots.queued, 0),
      cpuPercent: this.#cpu.percentSinceLastCall(),
      rssBytes: process.memoryUsage.rss(),
      memoryAvailableBytes: freemem(),
      agentVersion: FLOTILLA_VERSION,
      ...(this.#assignments ? { templates: this.#assignments.templates(), assignment: this.#assignments.report(Date.now()) } : {}),
    };
  }

  modelInfo(modelId: string): ModelInfo | undefined {
    const backend = this.#served.get(modelId)?.backend;
    return backend?.facts?.info({ contextSize: backend.contextSize });
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    const served = this.#served.get(workload.model);
    if (!served) throw new FlotillaError("model_not_found", `this node does not serve "${workload.model}"`, { param: "model" });
    const needed = capabilityOf(workload);
    if (!served.backend.capabilities.includes(needed)) {
      throw new FlotillaError("model_not_capable", `"${workload.model}" does not serve ${needed} requests`, { param: "model" });
    }
    const release = await served.slots.acquire(options.signal);
    try {
      return await served.backend.run(workload, options);
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    const backends = [...this.#served.values()].map((s) => s.backend);
    this.#served.clear();
    await Promise.all([...backends.map((b) => b.dispose()), ...this.#removing]);
  }
}

async function drainThenDispose(served: Served, drainMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, drainMs);
  });
  try {
    await Promise.race([served.slots.idle(), deadline]);
  } finally {
    clearTimeout(timer);
  }
  await served.backend.dispose();
}
