// The agent in this same process (`flotilla up`): called directly.
import type {
  HardwareInfo,
  InferenceNode,
  ModelInfo,
  NodeStatus,
  RunOptions,
  Tier,
  Workload,
  WorkloadHost,
  WorkloadResult,
} from "@flotilla/protocol";
import { LatencyTracker, timeWorkload } from "../latency.ts";

export interface LocalNodeOptions {
  name: string;
  tier: Tier;
  pool: string;
  hardware: HardwareInfo | null;
}

export class LocalNode implements InferenceNode {
  readonly name: string;
  readonly #host: WorkloadHost;
  readonly #options: LocalNodeOptions;
  readonly #latency = new LatencyTracker();
  drained = false;

  constructor(host: WorkloadHost, options: LocalNodeOptions) {
    this.name = options.name;
    this.#host = host;
    this.#options = options;
  }

  status(): NodeStatus {
    const load = this.#host.load();
    return {
      name: this.name,
      kind: "local",
      health: "ready",
      drained: this.drained,
      tier: this.#options.tier,
      pool: this.#options.pool,
      url: null,
      models: load.models,
      inFlight: load.inFlight,
      hardware: this.#options.hardware,
      lastSeenAgoMs: null,
      latency: this.#latency.snapshot(),
    };
  }

  modelInfo(modelId: string): Promise<ModelInfo | undefined> {
    return Promise.resolve(this.#host.modelInfo?.(modelId));
  }

  loadModel(modelId: string): void {
    this.#host.loadModel?.(modelId);
  }

  run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    // No network in between, but the slot queue and the model are: timed like a remote agent.
    return timeWorkload(this.#latency, workload, options, (timed) => this.#host.run(workload, timed));
  }
}
