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
    };
  }

  generate(request: GenerationRequest, options: GenerateOptions): Promise<GenerationResult> {
    return this.#host.generate(request, options);
  }
}
