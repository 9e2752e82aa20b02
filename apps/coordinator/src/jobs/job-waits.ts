// Waiting on the queue without polling it hot: a Wakeup ends a wait early
// when the queue says something changed, and waitForEnd follows one job to
// its end for callers that hold a request open on it (the seed's POST
// /generate). A look every few seconds covers a change made by another
// coordinator, which this one's queue does not announce.
import type { Job } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";
import { isTerminal } from "./job-state.ts";

/** A wait that ends after `ms`, when `signal` aborts, or when woken; a wake while no one waits ends the next wait at once. */
export class Wakeup {
  #woken = false;
  #finish: (() => void) | undefined;

  wake(): void {
    this.#woken = true;
    this.#finish?.();
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#woken || signal.aborted) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", finish);
        this.#finish = undefined;
        this.#woken = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.#finish = finish;
      signal.addEventListener("abort", finish, { once: true });
    });
  }
}

/** The job once it is terminal; null when it does not exist or `signal` aborts first. */
export async function waitForEnd(queue: JobQueue, id: string, signal: AbortSignal, lookEveryMs = 2_000): Promise<Job | null> {
  const wakeup = new Wakeup();
  const unsubscribe = queue.subscribe((change) => {
    if (change.job.id === id && change.type === "state" && isTerminal(change.job.state)) wakeup.wake();
  });
  try {
    while (!signal.aborted) {
      const job = await queue.get(id);
      if (job === null || isTerminal(job.state)) return job;
      await wakeup.wait(lookEveryMs, signal);
    }
    return null;
  } finally {
    unsubscribe();
  }
}
