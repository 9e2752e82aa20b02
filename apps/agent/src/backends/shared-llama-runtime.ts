// One llama.cpp runtime per agent, started on first use: by the --model
// flags at start-up, or by the first llama template a coordinator assigns to
// an agent that was started with no model at all. node-llama-cpp is imported
// only then (~45 MB resident once loaded), so an idle roamer stays small.
import type { Llama } from "node-llama-cpp";
import type { LlamaRuntimeOptions } from "./llama-cpp.ts";

export class SharedLlamaRuntime {
  readonly #options: LlamaRuntimeOptions;
  readonly #onStarted: ((llama: Llama) => void) | undefined;
  #started: Promise<Llama> | undefined;

  constructor(options: LlamaRuntimeOptions, onStarted?: (llama: Llama) => void) {
    this.#options = options;
    this.#onStarted = onStarted;
  }

  get threads(): number {
    return this.#options.threads;
  }

  /** The runtime, started by the first call; a failed start is tried again by the next call. */
  get(): Promise<Llama> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<Llama> {
    try {
      const { startLlamaRuntime } = await import("./llama-cpp.ts");
      const llama = await startLlamaRuntime(this.#options);
      this.#onStarted?.(llama);
      return llama;
    } catch (err) {
      this.#started = undefined;
      throw err;
    }
  }
}
