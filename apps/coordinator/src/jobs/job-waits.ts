// Waiting for a job to end, for callers that hold a request open on one
// (the seed's POST /generate). The queue's changes wake the wait; a look
// every few seconds covers a change made by another coordinator.
import type { Job } from "./job.ts";
import type { JobQueue } from "./job-queue.ts";
import { isTerminal } from "./job-state.ts";

/** The job once it is terminal; null when it does not exist or `signal` aborts first. */
export async function waitForEnd(queue: JobQueue, id: string, signal: AbortSignal, lookEveryMs = 2_000): Promise<Job | null> {
  let ended = false;
  let wake: () => void = () => {};
  const unsubscribe = queue.subscribe((change) => {
    if (change.job.id !== id || change.type !== "state" || !isTerminal(change.job.state)) return;
    ended = true;
    wake();
  });
  try {
    while (!signal.aborted) {
      const job = await queue.get(id);
      if (job === null || isTerminal(job.state)) return job;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, lookEveryMs);
        function finish() {
          clearTimeout(timer);
          signal.removeEventListener("abort", finish);
          resolve();
        }
        wake = finish;
        signal.addEventListener("abort", finish, { once: true });
        // It ended while the job was being read: no need to wait.
        if (ended) finish();
      });
    }
    return null;
  } finally {
    unsubscribe();
  }
}
