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

interface Served {
  backend: InferenceBackend;
  slots: SlotPool;
  loadedAtMs: number;
}

export class Agent implements WorkloadHost {
  readonly #queue: QueueOptions;
  readonly #served = new Map<string, Served>();
  readonly #cpu = new CpuMeter();

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
    await Promise.all(backends.map((b) => b.dispose()));
  }
}
