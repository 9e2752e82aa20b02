// FakeNode: a stand-in InferenceNode for unit tests, named as such. It makes
// up its answers (words from a fixed list, one token each; embeddings from a
// hash of the text) but keeps the contract a real node keeps — it passes the
// same conformance suite (node-conformance.ts) as the real kinds — so a test
// that drives the router or the dispatcher with it exercises what they would
// see from a real node: chunks in order, max_tokens honoured, cancellation
// freeing the slot, errors that say whose fault they are.
import { createHash } from "node:crypto";
import {
  FlotillaError,
  isEmbedding,
  isGeneration,
  normalise,
  type InferenceNode,
  type NodeStatus,
  type RunOptions,
  type Tier,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";

const WORDS = ["Once", " upon", " a", " time", " there", " was", " a", " cat", "."];
const DIMENSIONS = 16;

export interface FakeNodeOptions {
  model?: string;
  tier?: Tier;
  slots?: number;
  /** Milliseconds between two chunks (0: the next event-loop turn). */
  chunkDelayMs?: number;
}

export class FakeNode implements InferenceNode {
  readonly name: string;
  readonly model: string;
  readonly #tier: Tier;
  readonly #slots: number;
  readonly #delayMs: number;
  #busy = 0;

  constructor(name: string, options: FakeNodeOptions = {}) {
    this.name = name;
    this.model = options.model ?? "fake-model";
    this.#tier = options.tier ?? 0;
    this.#slots = options.slots ?? 4;
    this.#delayMs = options.chunkDelayMs ?? 0;
  }

  status(): NodeStatus {
    return {
      name: this.name,
      kind: "local",
      health: "ready",
      drained: false,
      tier: this.#tier,
      pool: "default",
      url: null,
      models: [{
        id: this.model,
        contextSize: 4096,
        loadedAtMs: 0,
        slots: { total: this.#slots, busy: Math.min(this.#busy, this.#slots), queued: Math.max(0, this.#busy - this.#slots) },
        capabilities: ["chat", "embed"],
      }],
      inFlight: this.#busy,
      hardware: null,
      lastSeenAgoMs: null,
      latency: { firstTokenMs: null, totalMs: null, samples: 0 },
    };
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    if (workload.model !== this.model) {
      throw new FlotillaError("model_not_found", `this node does not serve "${workload.model}"`, { param: "model" });
    }
    this.#busy++;
    try {
      if (!isGeneration(workload)) {
        // A fake of a language model: speech is what it does not do, as a real one would say.
        if (!isEmbedding(workload)) throw new FlotillaError("model_not_capable", `"${this.model}" does not serve ${workload.input.kind}`, { param: "model" });
        const vectors = workload.input.items.map((item) => vectorOf(typeof item === "string" ? item : item.join(",")));
        return { kind: "embedding", vectors, promptTokens: workload.input.items.length };
      }
      const limit = workload.params.maxTokens ?? WORDS.length;
      let text = "";
      for (let i = 0; i < limit; i++) {
        await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
        if (options.signal.aborted) throw options.signal.reason;
        const word = WORDS[i % WORDS.length] ?? "";
        text += word;
        options.onChunk?.({ type: "text", text: word, tokens: 1 });
      }
      return { kind: "generation", text, finishReason: "length", promptTokens: 1, completionTokens: limit };
    } finally {
      this.#busy--;
    }
  }
}

function vectorOf(text: string): number[] {
  const digest = createHash("sha256").update(text).digest();
  return normalise(Array.from({ length: DIMENSIONS }, (_, i) => (digest[i] ?? 0) - 128));
}
