// One model an agent serves, loaded or not (issue 17, "on-demand load and
// idle unload"). A model given a keep-alive is unloaded once it has had no
// request for that long, and loaded again when one asks for it:
//
//   loaded ──idle for keepAliveMs, no slot held──▶ unloaded
//     ▲                                               │ a request, or the coordinator's load
//     └──────────────── loading ◀─────────────────────┘
//
// A model with a request in flight or waiting is never unloaded. A request
// for one that is not loaded waits for the load as for a slot (agent.ts), up
// to the queue's wait; past it, it is refused as busy (server_busy with
// Retry-After), which sends it to another node or into the coordinator's
// busy queue until the next report says it is loaded. What it reports (its window, its
// capabilities, its file) is kept from when it was last loaded.
import { FlotillaError, type Capability, type ModelDetails, type ModelInfo, type RunOptions, type ServedModel as ServedModelReport, type Workload, type WorkloadResult } from "@flotilla/protocol";
import type { InferenceBackend } from "../backends/backend.ts";
import { SlotPool } from "../slots/slot-pool.ts";
import type { QueueOptions } from "../agent.ts";

/** How a model that may be unloaded is loaded again. */
export interface Reload {
  load: () => Promise<InferenceBackend>;
  /** Idle time before it is unloaded. */
  keepAliveMs: number;
}

export type LoadState = "loaded" | "loading" | "unloaded";

export class ServedModel {
  readonly id: string;
  readonly slots: SlotPool;
  readonly #reload: Reload | undefined;
  #backend: InferenceBackend | null;
  /** Of the last loaded backend: what is reported while unloaded. */
  readonly #last: Pick<InferenceBackend, "contextSize" | "capabilities" | "facts">;
  #loading: Promise<void> | null = null;
  #loadedAtMs: number;
  #lastUsedMs: number;
  #lastError: string | undefined;

  constructor(backend: InferenceBackend, queue: QueueOptions, nowMs: number, reload?: Reload) {
    this.id = backend.modelId;
    this.#backend = backend;
    this.#last = { contextSize: backend.contextSize, capabilities: [...backend.capabilities], facts: backend.facts };
    this.slots = new SlotPool({ total: backend.parallelSequences, ...queue });
    this.#reload = reload;
    this.#loadedAtMs = nowMs;
    this.#lastUsedMs = nowMs;
  }

  get state(): LoadState {
    return this.#backend !== null ? "loaded" : this.#loading !== null ? "loading" : "unloaded";
  }

  get capabilities(): readonly Capability[] {
    return this.#last.capabilities;
  }

  get lastUsedMs(): number {
    return this.#lastUsedMs;
  }

  /** The model file's size, where known: what loading it again will take of memory, about. */
  get sizeBytes(): number {
    return this.#last.facts?.details().sizeBytes ?? 0;
  }

  report(): ServedModelReport {
    const details: ModelDetails | undefined = this.#last.facts?.details();
    return {
      id: this.id,
      contextSize: this.#last.contextSize,
      loadedAtMs: this.#loadedAtMs,
      slots: this.slots.status(),
      capabilities: [...this.#last.capabilities],
      ...(details === undefined ? {} : { details }),
      // Said only when it is not the default, so older coordinators read the same reports.
      ...(this.state === "loaded" ? {} : { state: this.state }),
    };
  }

  info(): ModelInfo | undefined {
    return this.#last.facts?.info({ contextSize: this.#last.contextSize });
  }

  async run(workload: Workload, options: RunOptions, nowMs: () => number): Promise<WorkloadResult> {
    if (this.#backend === null) {
      // The agent has it loaded (after making room for it): this only says so.
      const why = this.#lastError === undefined ? "" : ` (the last try failed: ${this.#lastError})`;
      throw new FlotillaError("server_busy", `"${this.id}" is loading on this node${why}: retry shortly`, { retryAfterS: 1 });
    }
    this.#lastUsedMs = nowMs();
    const release = await this.slots.acquire(options.signal);
    try {
      // Unloaded meanwhile cannot happen: a model with a slot held or waited for is never unloaded.
      const backend = this.#backend;
      if (backend === null) throw new FlotillaError("server_busy", `"${this.id}" was unloaded: retry shortly`, { retryAfterS: 1 });
      return await backend.run(workload, options);
    } finally {
      this.#lastUsedMs = nowMs();
      release();
    }
  }

  /** Loads it again if it is unloaded (not already loading); false when it cannot be (it is loaded, or was never reloadable). */
  startLoading(nowMs: () => number): boolean {
    const reload = this.#reload;
    if (this.#backend !== null || this.#loading !== null || reload === undefined) return false;
    this.#loading = reload
      .load()
      .then(
        (backend) => {
          this.#backend = backend;
          this.#loadedAtMs = nowMs();
          this.#lastUsedMs = this.#loadedAtMs;
          this.#lastError = undefined;
        },
        (err: unknown) => {
          this.#lastError = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => {
        this.#loading = null;
      });
    return true;
  }

  /** Settles once a load under way has (at once when none is). */
  loaded(): Promise<void> {
    return this.#loading ?? Promise.resolve();
  }

  /** Whether it may be unloaded now: reloadable, loaded, no slot held or waited for, idle for its keep-alive. */
  idleAt(nowMs: number): boolean {
    return this.evictable && this.#reload !== undefined && nowMs - this.#lastUsedMs >= this.#reload.keepAliveMs;
  }

  /** Whether it could be unloaded to make room (reloadable, loaded, nothing in flight), whatever its keep-alive. */
  get evictable(): boolean {
    if (this.#reload === undefined || this.#backend === null) return false;
    const { busy, queued } = this.slots.status();
    return busy === 0 && queued === 0;
  }

  /** Frees the model's memory; it stays listed, unloaded, and loads again on demand. */
  async unload(): Promise<void> {
    const backend = this.#backend;
    if (backend === null) return;
    this.#backend = null;
    await backend.dispose();
  }

  /** For good: the agent is closing or the model is removed. */
  async dispose(): Promise<void> {
    await this.#loading;
    await this.unload();
  }
}
