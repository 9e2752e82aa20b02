// What a queue implementation hands the conformance suite: a queue on fresh,
// empty data, built with the suite's clock and random source, and a way to
// throw it away. Time only moves when a test moves it.
import { test } from "node:test";
import type { JobQueue } from "../job-queue.ts";
import type { JobQueueOptions } from "../job-queue-options.ts";

export interface JobQueueFixture {
  readonly queue: JobQueue;
  /** Closes the queue and deletes its data. */
  cleanup(): Promise<void>;
}

export type MakeJobQueue = (options: Required<Pick<JobQueueOptions, "nowMs" | "random" | "retryPolicy">>) => Promise<JobQueueFixture>;

export interface SuiteContext {
  queue: JobQueue;
  /** Moves the queue's clock on. */
  advance: (ms: number) => void;
  nowMs: () => number;
}

/** Retries wait base/2 with the suite's random source at 0: 500 ms, then 1000 ms... */
export const SUITE_RETRY_POLICY = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

export type QueueTest = (title: string, body: (context: SuiteContext) => Promise<void>) => void;

export function queueTest(makeQueue: MakeJobQueue): QueueTest {
  return (title, body) => {
    test(title, async () => {
      let now = 1_700_000_000_000;
      const fixture = await makeQueue({ nowMs: () => now, random: () => 0, retryPolicy: SUITE_RETRY_POLICY });
      try {
        await body({
          queue: fixture.queue,
          advance: (ms) => {
            now += ms;
          },
          nowMs: () => now,
        });
      } finally {
        await fixture.cleanup();
      }
    });
  };
}
