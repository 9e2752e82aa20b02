// A llama template: its model served by the agent's own llama.cpp, as a
// --model flag serves one, but added while the agent runs and removed again
// when the coordinator takes the roamer back. The model file stays in the
// cache (dataDir/models), so the next assignment of the template loads
// without a download.
import type { Agent } from "../agent.ts";
import type { LlamaCppBackend } from "../backends/llama-cpp.ts";
import type { SharedLlamaRuntime } from "../backends/shared-llama-runtime.ts";
import { parseModelSource } from "../models/model-spec.ts";
import { resolveModel, type DownloadProgress, type ResolveOptions } from "../models/resolve-model.ts";
import type { LlamaTemplate } from "./template-config.ts";
import type { WorkloadDriver, WorkloadLog } from "./workload-driver.ts";

export interface LlamaDriverOptions {
  /** The template's name, for the logs. */
  name: string;
  template: LlamaTemplate;
  agent: Pick<Agent, "addBackend" | "removeBackend" | "serves">;
  llama: SharedLlamaRuntime;
  /** The agent's own --slots and --context-size, where the template sets none. */
  defaults: { slots: number; contextSize: number };
  /** Where models are cached and downloaded from. */
  models: Omit<ResolveOptions, "onProgress" | "signal">;
  log: WorkloadLog;
  /** How long running requests may take to finish once stopped; default the agent's. */
  drainMs?: number;
}

/** Of provisioning's 0–1, the share the download takes; loading the file is the rest. */
const DOWNLOAD_SHARE = 0.8;

export class LlamaDriver implements WorkloadDriver {
  readonly kind = "llama";
  readonly #o: LlamaDriverOptions;
  #provisioning = false;
  #serving = false;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: LlamaDriverOptions) {
    this.#o = options;
  }

  async provision(signal: AbortSignal, onProgress: (fraction: number, message: string) => void): Promise<void> {
    if (this.#provisioning) throw new Error("a driver provisions once: make another for another run");
    this.#provisioning = true;
    const { template, name } = this.#o;
    signal.throwIfAborted();
    onProgress(0, `resolving ${template.source}`);
    const file = await resolveModel(parseModelSource(template.source), {
      ...this.#o.models,
      signal,
      onProgress: (p: DownloadProgress) => {
        if (p.totalBytes !== undefined) onProgress((DOWNLOAD_SHARE * p.receivedBytes) / p.totalBytes, `downloading ${p.file}`);
      },
    });
    this.#throwIfEnded(signal);
    onProgress(DOWNLOAD_SHARE, `loading ${template.model}`);
    const llama = await this.#o.llama.get();
    this.#throwIfEnded(signal);
    const { loadLlamaModel } = await import("../backends/llama-cpp.ts");
    const slots = template.slots ?? this.#o.defaults.slots;
    const backend: LlamaCppBackend = await loadLlamaModel(llama, {
      modelId: template.model,
      path: file,
      parallelSequences: slots,
      contextSize: template.contextSize ?? this.#o.defaults.contextSize,
      threads: this.#o.llama.threads,
    });
    // Loading cannot be interrupted; what was aborted meanwhile is unloaded here.
    try {
      this.#throwIfEnded(signal);
      this.#o.agent.addBackend(backend, Date.now());
    } catch (err) {
      await backend.dispose();
      throw err;
    }
    this.#serving = true;
    this.#o.log.info({ template: name, model: template.model, file, slots, contextSize: backend.contextSize }, "template model loaded");
    onProgress(1, `serving ${template.model}`);
  }

  health(): Promise<{ ok: true } | { ok: false; message: string }> {
    const { model } = this.#o.template;
    if (this.#serving && this.#o.agent.serves(model)) return Promise.resolve({ ok: true });
    return Promise.resolve({ ok: false, message: `"${model}" is not loaded` });
  }

  stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping ??= this.#unload();
    return this.#stopping;
  }

  /** The model file is a cache entry, kept for next time: nothing else is left behind once stopped. */
  cleanup(): Promise<void> {
    return this.stop();
  }

  /** A model in this process does not fail on its own: an error fails its request, not the workload. */
  onFailure(_listener: (message: string) => void): void {}

  async #unload(): Promise<void> {
    if (!this.#serving) return;
    this.#serving = false;
    await this.#o.agent.removeBackend(this.#o.template.model, this.#o.drainMs);
    this.#o.log.info({ template: this.#o.name, model: this.#o.template.model }, "template model unloaded");
  }

  #throwIfEnded(signal: AbortSignal): void {
    signal.throwIfAborted();
    if (this.#stopped) throw new Error("stopped while provisioning");
  }
}
