// The pools the coordinator leases text jobs from: every kind's default pool,
// every pool a job waiting or running names (read once at start), and every
// pool a job names from then on. A job may name any pool, so the set grows;
// it is bounded by what callers may name (poolName) and the queue's limits.
import type { JobQueue } from "./job-queue.ts";

const UNFINISHED = ["queued", "leased", "running"] as const;

export class KnownPools {
  readonly #pools: Set<string>;

  constructor(initial: Iterable<string>) {
    this.#pools = new Set(initial);
  }

  add(pool: string): void {
    this.#pools.add(pool);
  }

  list(): string[] {
    return [...this.#pools];
  }

  /** Adds the pool of every job that is not yet terminal, a page at a time. */
  async learnFrom(queue: Pick<JobQueue, "list">): Promise<void> {
    for (const state of UNFINISHED) {
      let cursor: string | null = null;
      do {
        const page = await queue.list({ state }, { cursor, limit: 1000 });
        for (const job of page.jobs) this.#pools.add(job.pool);
        cursor = page.nextCursor;
      } while (cursor !== null);
    }
  }
}
