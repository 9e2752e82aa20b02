// The job queue in /metrics (issue 12): how many jobs each pool holds in each
// state, read from the queue at scrape time, and how long jobs wait and run,
// timed from the queue's own changes (JobQueue.subscribe). The series live on
// the registry they are given: the gateway's (GatewayMetrics.registry), so
// one /metrics shows both.
//
// Times come from the jobs' own timestamps, which the queue stamps with its
// injected clock, never from a clock here: a wait is first lease − enqueue,
// a run is the end of an attempt − its lease.
//
// Cardinality: pool and kind are names the queue accepted (poolName, JOB_KINDS),
// and the counts are only for the pools the coordinator knows (KnownPools).
import { Gauge, Histogram, type Registry } from "prom-client";
import { JOB_STATES } from "@flotilla/protocol";
import type { JobChange, JobCounts, JobQueue } from "../jobs/job-queue.ts";
import type { JobEvent } from "../jobs/job-state.ts";
import type { Job } from "../jobs/job.ts";

/** How an attempt that held a lease ended: its terminal state, or why it went back to the queue. */
export const RUN_OUTCOMES = ["succeeded", "failed", "dead", "cancelled", "retried", "expired"] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** The events that end a lease, and the outcome each one is counted as. */
const OUTCOME_OF: Partial<Record<JobEvent, RunOutcome>> = {
  complete: "succeeded",
  fail: "failed",
  exhaust: "dead",
  cancel: "cancelled",
  retry: "retried",
  expire: "expired",
};

/**
 * Seconds. A job may wait from no time (a free pool) to hours behind a long
 * queue or for a node that serves its kind; it may run from a short chat
 * answer to a long video.
 */
const WAIT_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];
const RUN_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/**
 * Leases seen but not yet ended. One is dropped when its job's change never
 * comes here (a job settled through another coordinator's queue on Redis),
 * so the oldest go first past this many.
 */
const MAX_OPEN_LEASES = 100_000;

const PREFIX = "flotilla_";

/** Where the per-state counts come from at scrape time; null until observeJobs() gives one. */
interface CountSource {
  queue: Pick<JobQueue, "counts">;
  pools: () => string[];
}

export class JobMetrics {
  readonly #wait: Histogram<"pool" | "kind">;
  readonly #run: Histogram<"pool" | "kind" | "outcome">;
  #source: CountSource | null = null;

  constructor(registry: Registry) {
    const registers = [registry];
    // An arrow, for the collect callback, whose `this` is the gauge.
    const sourceNow = () => this.#source;
    new Gauge({
      name: `${PREFIX}jobs`,
      help: "Jobs in each pool the coordinator knows, by state, read from the job queue at scrape time.",
      labelNames: ["pool", "state"],
      registers,
      async collect() {
        const source = sourceNow();
        // Reset first: a pool that is no longer known leaves the output.
        this.reset();
        if (source === null) return;
        const pools = [...new Set(source.pools())];
        const counts = await Promise.all(pools.map((pool) => source.queue.counts(pool)));
        pools.forEach((pool, i) => {
          const c: JobCounts | undefined = counts[i];
          if (c === undefined) return;
          for (const state of JOB_STATES) this.set({ pool, state }, c[state]);
        });
      },
    });
    this.#wait = new Histogram({
      name: `${PREFIX}job_wait_seconds`,
      help: "From a job's enqueue to its first lease.",
      labelNames: ["pool", "kind"],
      buckets: WAIT_BUCKETS_S,
      registers,
    });
    this.#run = new Histogram({
      name: `${PREFIX}job_run_seconds`,
      help: "From a lease to the end of that attempt: its terminal state, or retried/expired when it went back to the queue.",
      labelNames: ["pool", "kind", "outcome"],
      buckets: RUN_BUCKETS_S,
      registers,
    });
  }

  waited(job: Pick<Job, "pool" | "kind">, seconds: number): void {
    this.#wait.observe({ pool: job.pool, kind: job.kind }, seconds);
  }

  ran(job: Pick<Job, "pool" | "kind">, outcome: RunOutcome, seconds: number): void {
    this.#run.observe({ pool: job.pool, kind: job.kind, outcome }, seconds);
  }

  /** Counts from this queue for these pools at each scrape; null stops them. */
  countFrom(source: CountSource | null): void {
    this.#source = source;
  }
}

/**
 * Feeds `metrics` from the queue's changes and has it count the queue's jobs
 * for `pools` at each scrape. Returns the unsubscribe, which stops both.
 */
export function observeJobs(queue: Pick<JobQueue, "subscribe" | "counts">, metrics: JobMetrics, pools: () => string[]): () => void {
  const timer = new JobTimer(metrics);
  const unsubscribe = queue.subscribe((change) => timer.changed(change));
  metrics.countFrom({ queue, pools });
  return () => {
    unsubscribe();
    metrics.countFrom(null);
  };
}

/**
 * Times waits and runs from a stream of changes. A run is timed only when
 * its lease was seen here: after a restart, a lease taken before it is not
 * timed at all rather than timed wrong.
 */
export class JobTimer {
  /** Job id → when its current lease was taken, and the lease's epoch. */
  readonly #leases = new Map<string, { atMs: number; epoch: number }>();

  readonly #metrics: Pick<JobMetrics, "waited" | "ran">;

  constructor(metrics: Pick<JobMetrics, "waited" | "ran">) {
    this.#metrics = metrics;
  }

  changed(change: JobChange): void {
    if (change.type !== "state" || change.event === null) return;
    const job = change.job;
    if (change.event === "lease") {
      // The first lease ends the wait; a retry's wait is its backoff, not the queue's.
      if (job.attempts === 1) this.#metrics.waited(job, seconds(job.updatedAtMs - job.createdAtMs));
      this.#open(job);
      return;
    }
    const outcome = OUTCOME_OF[change.event];
    // A queued job's cancel held no lease: nothing ran.
    if (outcome === undefined || change.from === "queued") return;
    const lease = this.#leases.get(job.id);
    this.#leases.delete(job.id);
    if (lease === undefined || lease.epoch !== job.epoch) return;
    this.#metrics.ran(job, outcome, seconds(job.updatedAtMs - lease.atMs));
  }

  /** Leases being timed now (for tests). */
  get open(): number {
    return this.#leases.size;
  }

  #open(job: Job): void {
    this.#leases.delete(job.id);
    if (this.#leases.size >= MAX_OPEN_LEASES) {
      const oldest = this.#leases.keys().next();
      if (oldest.done !== true) this.#leases.delete(oldest.value);
    }
    this.#leases.set(job.id, { atMs: job.updatedAtMs, epoch: job.epoch });
  }
}

/** A clock that steps back (another coordinator's, on Redis) must not make a negative time. */
function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
