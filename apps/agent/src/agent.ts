// The agent as an InferenceNode: it owns the loaded backends and admits each
// request through the model's SlotPool. `flotilla up` hands this object to the
// coordinator directly, so the one-machine form has no HTTP hop inside it.
import {
  FlotillaError,
  type GenerateOptions,
  type GenerationRequest,
  type GenerationResult,
  type InferenceNode,
  type NodeStatus,
} from "@flotilla/protocol";
import type { InferenceBackend } from "./backends/backend.ts";
import { SlotPool } from "./slots/slot-pool.ts";

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

export class Agent implements InferenceNode {
  readonly name: string;
  readonly #queue: QueueOptions;
  readonly #served = new Map<string, Served>();

  constructor(name: string, queue: QueueOptions) {
    this.name = name;
    this.#queue = queue;
  }

  addBackend(backend: InferenceBackend, nowMs: number): void {
    if (this.#served.has(backend.modelId)) {
      throw new Error(`two models are both named "${backend.modelId}"; name one with --model NAME=PATH`);
    }
    const slots = new SlotPool({ total: backend.parallelSequences, ...this.#queue });
    this.#served.set(backend.modelId, { backend, slots, loadedAtMs: nowMs });
  }

  status(): NodeStatus {
    const models = [...this.#served.values()].map(({ backend, slots, loadedAtMs }) => ({
      id: backend.modelId,
      contextSize: backend.contextSize,
      loadedAtMs,
      slots: slots.status(),
    }));
    return { name: this.name, state: models.length > 0 ? "ready" : "no_models", models };
  }

  async generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult> {
    const served = this.#served.get(request.model);
    if (!served) throw new FlotillaError("model_not_found", `this node does not serve "${request.model}"`, { param: "model" });
    const release = await served.slots.acquire(options.signal);
    try {
      return await served.backend.generate(request, options);
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
