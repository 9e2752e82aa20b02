// Takes back expired leases on a timer, so that a dead worker's job moves on
// and get()/counts() stop showing its lease even while nobody leases from
// that pool (lease() sweeps on its own first). The coordinator starts it
// beside its other loops; one sweep at a time, never overlapping a slow one.
import type { JobQueue } from "./job-queue.ts";

export interface JobSweeperOptions {
  intervalMs: number;
  /** A failed sweep (Redis away, say) is reported and the next tick tries again. */
  onError: (err: unknown) => void;
}

/** Starts sweeping `queue` every `intervalMs`; returns the stop. The timer does not keep the process alive. */
export function startJobSweeper(queue: Pick<JobQueue, "sweep">, options: JobSweeperOptions): () => void {
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    queue
      .sweep()
      .catch(options.onError)
      .finally(() => {
        sweeping = false;
      });
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
