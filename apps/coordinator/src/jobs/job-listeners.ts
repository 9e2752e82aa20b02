// The subscribers of one queue. A listener that throws is its own problem:
// it must not undo a change that is already stored, nor starve the others.
import type { JobChange, JobListener } from "./job-queue.ts";

export class JobListeners {
  readonly #listeners = new Set<JobListener>();

  subscribe(listener: JobListener): () => void {
    // A wrapper per call, so subscribing one function twice gives two subscriptions.
    const entry: JobListener = (change) => listener(change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(change: JobChange | null): void {
    if (change === null) return;
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        process.emitWarning(`a job listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
