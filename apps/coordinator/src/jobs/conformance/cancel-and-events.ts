// Cancelling, terminal states, and the changes a subscriber sees.
import assert from "node:assert/strict";
import type { JobChange } from "../job-queue.ts";
import type { QueueTest } from "./fixture.ts";

const brain = { pool: "brain", kinds: ["chat"], leaseMs: 1_000 } as const;

/** What a subscriber saw, short enough to compare whole. */
function summary(change: JobChange): string {
  return change.type === "progress" ? `progress ${change.job.progress?.fraction}` : `${change.from ?? "new"} -${change.event ?? "enqueue"}-> ${change.job.state}`;
}

export function cancelAndEventsConformance(test: QueueTest): void {
  test("a cancelled queued job is never leased", async ({ queue }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const outcome = await queue.cancel(job.id);
    assert.equal(outcome.status, "cancelled");
    assert.equal((await queue.get(job.id))?.state, "cancelled");
    assert.equal(await queue.position(job.id), null);
    assert.equal(await queue.lease({ ...brain, workerId: "w1" }), null);
    assert.equal((await queue.counts("brain")).cancelled, 1);
    assert.deepEqual(await queue.cancel("job_nope"), { status: "not_found" });
  });

  test("a worker hears of a cancel when it renews, and its result is refused", async ({ queue }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await queue.lease({ ...brain, workerId: "w1" });
    assert.ok(lease);
    await queue.start(job.id, lease.token);
    assert.equal((await queue.cancel(job.id)).status, "cancelled");
    assert.deepEqual(await queue.renew(job.id, lease.token, 1_000), { status: "cancelled" });
    assert.deepEqual(await queue.progress(job.id, lease.token, 0.9, "nearly"), { status: "cancelled" });
    assert.deepEqual(await queue.complete(job.id, lease.token, "too late"), { status: "cancelled" });
    const cancelled = await queue.get(job.id);
    assert.equal(cancelled?.state, "cancelled");
    assert.equal(cancelled?.result, null);
  });

  test("a terminal job never changes again", async ({ queue, advance }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await queue.lease({ ...brain, workerId: "w1" });
    assert.ok(lease);
    await queue.complete(job.id, lease.token, "answer");
    const done = await queue.get(job.id);
    const cancel = await queue.cancel(job.id);
    assert.equal(cancel.status, "terminal");
    assert.deepEqual(await queue.fail(job.id, lease.token, "no", { retryable: true }), { status: "lost" });
    assert.deepEqual(await queue.start(job.id, lease.token), { status: "lost" });
    advance(60_000);
    assert.equal(await queue.sweep(), 0);
    assert.equal(await queue.lease({ ...brain, workerId: "w2" }), null);
    assert.deepEqual(await queue.get(job.id), done);

    const cancelled = await queue.enqueue({ kind: "chat", input: {} });
    await queue.cancel(cancelled.id);
    assert.equal((await queue.cancel(cancelled.id)).status, "terminal");
  });

  test("a subscriber sees every change in order, and nothing once unsubscribed", async ({ queue, advance }) => {
    const seen: string[] = [];
    const unsubscribe = queue.subscribe((change) => seen.push(summary(change)));
    const job = await queue.enqueue({ kind: "chat", input: {}, idempotencyKey: "once" });
    await queue.enqueue({ kind: "chat", input: {}, idempotencyKey: "once" });
    const first = await queue.lease({ ...brain, workerId: "w1" });
    assert.ok(first);
    await queue.start(job.id, first.token);
    await queue.progress(job.id, first.token, 0.25, "a quarter");
    await queue.renew(job.id, first.token, 1_000);
    await queue.fail(job.id, first.token, "busy", { retryable: true });
    advance(500);
    const second = await queue.lease({ ...brain, workerId: "w1" });
    assert.ok(second);
    advance(1_000);
    await queue.sweep();
    const third = await queue.lease({ ...brain, workerId: "w1" });
    assert.ok(third);
    await queue.complete(job.id, third.token, "ok");
    const other = await queue.enqueue({ kind: "chat", input: {} });
    await queue.cancel(other.id);
    unsubscribe();
    await queue.enqueue({ kind: "chat", input: {} });
    assert.deepEqual(seen, [
      "new -enqueue-> queued",
      "queued -lease-> leased",
      "leased -start-> running",
      "progress 0.25",
      "running -retry-> queued",
      "queued -lease-> leased",
      "leased -expire-> queued",
      "queued -lease-> leased",
      "leased -complete-> succeeded",
      "new -enqueue-> queued",
      "queued -cancel-> cancelled",
    ]);
  });
}
