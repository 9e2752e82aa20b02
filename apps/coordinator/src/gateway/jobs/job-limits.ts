// The limits a new job meets wherever it is submitted (POST /v1/jobs, the
// seed's POST /generate): jobs queued by its key, and queued in all. Past
// either: 429 job_queue_full with Retry-After, and nothing queued.
import { FlotillaError } from "@flotilla/protocol";
import type { JobService } from "../../jobs/job-service.ts";

/**
 * A job may name a pool that exists: a kind's default pool or a pool some
 * node is in. Any other name would be a new queue (and a BullMQ worker per
 * kind on Redis) that every lease loop walks from then on, made by a client.
 */
export function checkPool(pool: string, known: ReadonlySet<string>): void {
  if (known.has(pool)) return;
  throw new FlotillaError("invalid_request", `pool: no pool '${pool}'; there are ${[...known].sort().join(", ")}`, { param: "pool" });
}

export async function checkJobLimits(jobs: JobService, owner: string): Promise<void> {
  const { maxQueuedPerKey, maxQueued } = jobs.limits;
  if ((await queuedBy(jobs, owner, maxQueuedPerKey)) >= maxQueuedPerKey) {
    throw new FlotillaError("job_queue_full", `this key has ${maxQueuedPerKey} jobs queued, its limit: wait for some to run`, { retryAfterS: 5 });
  }
  let queued = 0;
  for (const pool of jobs.pools.list()) queued += (await jobs.queue.counts(pool)).queued;
  if (queued >= maxQueued) {
    throw new FlotillaError("job_queue_full", `the job queue holds ${maxQueued} queued jobs, its limit: retry later`, { retryAfterS: 10 });
  }
}

/** The owner's queued jobs, counted up to `enough` (a page holds at most 1,000). */
async function queuedBy(jobs: JobService, owner: string, enough: number): Promise<number> {
  let counted = 0;
  let cursor: string | null = null;
  do {
    const page = await jobs.queue.list({ owner, state: "queued" }, { cursor, limit: Math.min(1000, enough - counted) });
    counted += page.jobs.length;
    cursor = page.nextCursor;
  } while (cursor !== null && counted < enough);
  return counted;
}
