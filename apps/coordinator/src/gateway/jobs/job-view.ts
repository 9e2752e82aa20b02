// A job as clients see it (JobObject in the protocol): the queue's record
// plus what only the coordinator knows now: its place in line, an ETA from
// the pool's measured pace, why it waits, and which nodes answer. Pure: the
// routes gather the facts and pass them in.
import type { JobKind, JobObject } from "@flotilla/protocol";
import type { Job } from "../../jobs/job.ts";
import type { PoolPace } from "../../jobs/job-runner.ts";

export interface JobFacts {
  /** Jobs ahead in its pool's queue; null once it left the queue. */
  position: number | null;
  pace: PoolPace;
  /** How many jobs of the pool this coordinator runs at once. */
  concurrency: number;
  nodes: string[];
  /** Kinds some worker runs; a queued job of another kind waits for one. */
  servedKinds: ReadonlySet<JobKind>;
  nowMs: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function jobView(job: Job, facts: JobFacts): JobObject {
  return {
    id: job.id,
    object: "job",
    kind: job.kind,
    pool: job.pool,
    priority: job.priority,
    state: job.state,
    position: job.state === "queued" ? facts.position : null,
    eta_s: etaSeconds(job, facts),
    waiting_reason: waitingReason(job, facts),
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    nodes: facts.nodes,
    progress: job.progress,
    created_at: seconds(job.createdAtMs),
    updated_at: seconds(job.updatedAtMs),
    result_url: job.state === "succeeded" ? `/v1/jobs/${job.id}/result` : null,
    error: job.error,
    parent_id: job.parentId,
  };
}

/** Why a queued job is not running yet; null when it is not queued or nothing holds it but its turn. */
export function waitingReason(job: Job, facts: JobFacts): string | null {
  if (job.state !== "queued") return null;
  if (!facts.servedKinds.has(job.kind)) {
    return `no node in pool '${job.pool}' runs ${job.kind} jobs yet: the job waits until one joins`;
  }
  if (job.notBeforeMs > facts.nowMs) {
    const inS = Math.ceil((job.notBeforeMs - facts.nowMs) / 1000);
    return `attempt ${job.attempts + 1} of ${job.maxAttempts} starts in ${inS} s, after: ${job.error?.message ?? "a failure"}`;
  }
  if (facts.pace.running >= facts.concurrency) {
    return `${facts.pace.running} of ${facts.concurrency} job slots of pool '${job.pool}' are busy`;
  }
  return null;
}

/**
 * Seconds until the job should be done: the pool's mean run time, times the
 * rounds of `concurrency` jobs ahead of it. Null before a job of the pool has
 * finished here, or once it is terminal.
 */
export function etaSeconds(job: Job, facts: JobFacts): number | null {
  const mean = facts.pace.meanRunMs;
  if (mean === null) return null;
  if (job.state === "queued") {
    if (!facts.servedKinds.has(job.kind) || facts.position === null) return null;
    const rounds = Math.floor((facts.position + facts.pace.running) / Math.max(1, facts.concurrency)) + 1;
    const backoff = Math.max(0, job.notBeforeMs - facts.nowMs);
    return Math.round((rounds * mean + backoff) / 1000);
  }
  if (job.state === "leased" || job.state === "running") {
    return Math.round((mean * (1 - (job.progress?.fraction ?? 0))) / 1000);
  }
  return null;
}
