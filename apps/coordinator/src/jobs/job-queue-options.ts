// What both queues take besides where the jobs live: the clock and the
// random source their decisions use (injected, so tests move time without
// sleeping), the retry policy and how ids are made.
import { randomUUID } from "node:crypto";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy.ts";

export interface JobQueueOptions {
  nowMs?: () => number;
  random?: () => number;
  retryPolicy?: RetryPolicy;
  newId?: () => string;
}

export type ResolvedJobQueueOptions = Required<JobQueueOptions>;

export function resolveJobQueueOptions(options: JobQueueOptions = {}): ResolvedJobQueueOptions {
  return {
    nowMs: options.nowMs ?? Date.now,
    random: options.random ?? Math.random,
    retryPolicy: options.retryPolicy ?? DEFAULT_RETRY_POLICY,
    newId: options.newId ?? (() => `job_${randomUUID().replaceAll("-", "")}`),
  };
}

/** A list cursor is the last listed job's place in enqueue order, as a decimal string. */
export function parseListCursor(cursor: string | null | undefined): number {
  if (cursor === undefined || cursor === null || cursor === "") return 0;
  if (!/^\d{1,15}$/.test(cursor)) throw new InvalidCursorError(cursor);
  return Number(cursor);
}

export class InvalidCursorError extends Error {
  constructor(cursor: string) {
    super(`not a job list cursor: ${JSON.stringify(cursor.slice(0, 40))}`);
    this.name = "InvalidCursorError";
  }
}

/** Pages are 1 to 1000 jobs: a caller cannot ask for the whole table at once. */
export function clampLimit(limit: number): number {
  return Math.min(1000, Math.max(1, Math.trunc(limit)));
}
