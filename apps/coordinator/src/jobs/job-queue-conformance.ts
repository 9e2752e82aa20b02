// The behaviour every JobQueue must have, whatever keeps the jobs: the SQLite
// queue runs it (sqlite-job-queue.test.ts) and so does the BullMQ queue
// (bullmq-job-queue.test.ts), each on fresh data per test and with the
// suite's own clock, so expiry and backoff are tested without sleeping.
import { describe } from "node:test";
import { queueTest, type MakeJobQueue } from "./conformance/fixture.ts";
import { queueingConformance } from "./conformance/queueing.ts";
import { leasingConformance } from "./conformance/leasing.ts";
import { cancelAndEventsConformance } from "./conformance/cancel-and-events.ts";

export type { JobQueueFixture, MakeJobQueue } from "./conformance/fixture.ts";

/** Registers the suite's tests under `name`. */
export function jobQueueConformance(name: string, makeQueue: MakeJobQueue): void {
  const test = queueTest(makeQueue);
  describe(`${name} conforms to the JobQueue interface`, () => {
    describe("queueing", () => queueingConformance(test));
    describe("leasing", () => leasingConformance(test));
    describe("cancel and events", () => cancelAndEventsConformance(test));
  });
}
