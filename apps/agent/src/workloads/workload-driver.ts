// One running instance of one template (issue 17): what the assignment
// keeper provisions when a coordinator lends this agent to a pool, and tears
// down when it takes the agent back. Each kind of workload (llama.cpp in this
// process, a supervised program, later a container or a Nomad job) is one
// implementation, and every one passes workload-driver-conformance.ts.
//
//   new ─provision()─▶ serving ─stop()─▶ stopped ─cleanup()─▶ clean
//    │                    │                 ▲
//    └─ rejects ──────────┴─ onFailure ─────┘ (stop and cleanup are safe from every state)

export type WorkloadDriverKind = "llama" | "process" | "container" | "nomad";

export interface WorkloadDriver {
  readonly kind: WorkloadDriverKind;
  /** Resolves once the workload is healthy and served; rejects (cleaning up what it started) on failure or when signal aborts. */
  provision(signal: AbortSignal, onProgress: (fraction: number, message: string) => void): Promise<void>;
  /** Whether it still works (a crashed process past its restart budget is not). */
  health(): Promise<{ ok: true } | { ok: false; message: string }>;
  /** Stops serving: new requests are refused, running ones finish (bounded), then it is stopped. */
  stop(): Promise<void>;
  /** Removes what provisioning left behind, keeping caches (downloaded models, images) for next time. */
  cleanup(): Promise<void>;
  /** Called when the workload fails on its own after provisioning (crash past the budget). */
  onFailure(listener: (message: string) => void): void;
}

/** The part of the agent's logger a workload writes to (pino's and Fastify's loggers are one). */
export interface WorkloadLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The message of anything thrown, for a report. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A step (stop, cleanup) made once and shared by every caller while it runs
 * or after it succeeded; one that failed is made again by the next call, so
 * a stop that could not reach its engine is retried by the next release.
 */
export class RetriedOnce {
  #attempt: Promise<void> | undefined;

  run(step: () => Promise<void>): Promise<void> {
    this.#attempt ??= step().catch((err: unknown) => {
      this.#attempt = undefined;
      throw err;
    });
    return this.#attempt;
  }
}

/** What health() answers outside the serving phase, alike for every driver. */
export function notServingHealth(phase: "new" | "starting" | "failed" | "stopped", failure: string | undefined): { ok: false; message: string } {
  if (phase === "failed" || phase === "stopped") return { ok: false, message: failure ?? phase };
  return { ok: false, message: "not provisioned" };
}

/** Who is told when a workload fails on its own (onFailure); one listener that throws does not keep the others from hearing. */
export class FailureListeners {
  readonly #listeners: ((message: string) => void)[] = [];

  add(listener: (message: string) => void): void {
    this.#listeners.push(listener);
  }

  tell(message: string, log: WorkloadLog, template: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (err) {
        log.warn({ template, err: messageOf(err) }, "a workload failure listener threw");
      }
    }
  }
}

/** Engine or API calls that must not overlap (a run and its removal), made one after another in the order asked. */
export class OneAtATime {
  #queue: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(step);
    this.#queue = result.catch(() => {});
    return result;
  }
}
