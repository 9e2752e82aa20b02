// The agent in this same process (`flotilla up`): called directly.
import type {
  GenerateOptions,
  GenerationHost,
  GenerationRequest,
  GenerationResult,
  HardwareInfo,
  InferenceNode,
  NodeStatus,
  Tier,
} from "@flotilla/protocol";
import { LatencyTracker, timeGeneration } from "./latency.ts";

export interface LocalNodeOptions {
  name: string;
  tier: Tier;
  pool: string;
  hardware: HardwareInfo | null;
}

export class LocalNode implements InferenceNode {
  readonly name: string;
  readonly #host: GenerationHost;
  readonly #options: LocalNodeOptions;
  readonly #latency = new LatencyTracker();
  drained = false;

  constructor(host: GenerationHost, options: LocalNodeOptions) {
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

  generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult> {
    // No network in between, but the slot queue and the model are: timed like a remote agent.
    return timeGeneration(this.#latency, options, (timed) => this.#host.generate(request, timed));
  }
}
