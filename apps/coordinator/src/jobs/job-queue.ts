// The one interface to the durable job queue (issue 12), whatever keeps the
// jobs: embedded SQLite (sqlite-job-queue.ts) or Redis with BullMQ
// (bullmq-job-queue.ts). Both run job-queue-conformance.ts. Delivery is at
// least once; settling is exactly once, fenced by the lease's token
// (docs/adr/0034). Outcomes a worker must act on are values, not throws.
import type { Job, JobKind, JobSpecInput } from "./job.ts";
import type { JobEvent, JobState } from "./job-state.ts";

export interface LeaseRequest {
  pool: string;
  /** The kinds this worker can run; a job of any other kind stays queued for someone else. */
  kinds: readonly JobKind[];
  workerId: string;
  leaseMs: number;
}

export interface Lease {
  job: Job;
  /** The fencing token: pass it to every later call about this lease. */
  token: number;
}

/** `lost`: the lease expired, or the job was leased again. `cancelled`: stop work, the job was cancelled. */
export type LeaseLoss = "lost" | "cancelled";

export type LeaseOutcome = { status: "ok"; job: Job } | { status: LeaseLoss };

export type CancelOutcome =
  | { status: "cancelled"; job: Job }
  /** Already succeeded, failed, dead or cancelled: it stays as it was. */
  | { status: "terminal"; job: Job }
  | { status: "not_found" };

export interface JobFilter {
  state?: JobState;
  pool?: string;
  kind?: JobKind;
  owner?: string;
  parentId?: string;
}

export interface ListPage {
  /** Oldest first. */
  jobs: Job[];
  /** Pass back to get the next page; null on the last one. */
  nextCursor: string | null;
}

export type JobCounts = Record<JobState, number>;

export type JobChange =
  /** `event` is null when the job was enqueued. */
  | { type: "state"; event: JobEvent | null; from: JobState | null; job: Job }
  | { type: "progress"; job: Job };

export type JobListener = (change: JobChange) => void;

export interface JobQueue {
  /**
   * Validates and queues. The same idempotency key gives back the job it
   * first made, whatever the spec, and queues nothing. Throws a ZodError for
   * a bad spec.
   */
  enqueue(spec: JobSpecInput): Promise<Job>;
  /** The best queued job (priority, then first in) of the pool and kinds, leased to the worker; null when none. */
  lease(request: LeaseRequest): Promise<Lease | null>;
  /** Moves the lease's deadline to `leaseMs` from now. */
  renew(id: string, token: number, leaseMs: number): Promise<LeaseOutcome>;
  /** leased → running. */
  start(id: string, token: number): Promise<LeaseOutcome>;
  progress(id: string, token: number, fraction: number, message: string): Promise<LeaseOutcome>;
  complete(id: string, token: number, result: unknown): Promise<LeaseOutcome>;
  /** Retried after a backoff while attempts are left and `retryable`; failed at once when not; dead after the last. */
  fail(id: string, token: number, error: string, options: { retryable: boolean }): Promise<LeaseOutcome>;
  cancel(id: string): Promise<CancelOutcome>;
  get(id: string): Promise<Job | null>;
  /** The job an idempotency key made, or null. */
  byIdempotencyKey(key: string): Promise<Job | null>;
  list(filter: JobFilter, page: { cursor?: string | null; limit: number }): Promise<ListPage>;
  counts(pool: string): Promise<JobCounts>;
  /** Jobs of its pool leased before it (0: next); null when it is not queued. */
  position(id: string): Promise<number | null>;
  /**
   * Takes back leases past their deadline: queued again, or dead after the
   * last attempt. lease() runs it first; the coordinator also runs it on a
   * timer so that get() and counts() do not show a dead worker's lease for long.
   * Resolves to how many it took back.
   */
  sweep(): Promise<number>;
  /** Every change this queue makes, in order. Returns the unsubscribe. */
  subscribe(listener: JobListener): () => void;
  close(): Promise<void>;
}

/** Every state at 0: the shape counts() fills in. */
export function zeroCounts(): JobCounts {
  return { queued: 0, leased: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, dead: 0 };
}
