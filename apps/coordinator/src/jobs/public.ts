// The durable job queue, importable alone as @flotilla/coordinator/jobs:
// what the job-queue benchmark (bench/job-queue.ts) drives, through the
// package's exports rather than into src/.
export { BullMqJobQueue, type BullMqJobQueueOptions } from "./bullmq-job-queue.ts";
export { SqliteJobQueue } from "./sqlite-job-queue.ts";
export type { JobQueueOptions } from "./job-queue-options.ts";
export type { JobCounts, JobQueue, Lease, LeaseOutcome, LeaseRequest } from "./job-queue.ts";
export type { Job, JobKind, JobSpecInput } from "./job.ts";
