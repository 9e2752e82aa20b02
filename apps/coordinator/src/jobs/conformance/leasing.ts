// Leases: one worker per job, fencing, renewal, expiry, retries and failure.
import assert from "node:assert/strict";
import type { Lease } from "../job-queue.ts";
import type { QueueTest, SuiteContext } from "./fixture.ts";

const brain = { pool: "brain", kinds: ["chat"], leaseMs: 1_000 } as const;

async function leaseOne(queue: SuiteContext["queue"], workerId: string): Promise<Lease> {
  const lease = await queue.lease({ ...brain, workerId });
  assert.ok(lease, `${workerId} leased nothing`);
  return lease;
}

export function leasingConformance(test: QueueTest): void {
  test("a lease holds the job for its worker until the deadline, with a token", async ({ queue, nowMs }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await leaseOne(queue, "w1");
    assert.equal(lease.job.id, job.id);
    assert.equal(lease.job.state, "leased");
    assert.equal(lease.job.workerId, "w1");
    assert.equal(lease.job.attempts, 1);
    assert.equal(lease.job.leaseDeadlineMs, nowMs() + 1_000);
    assert.equal(lease.token, lease.job.epoch);
    assert.equal(await queue.lease({ ...brain, workerId: "w2" }), null);
    assert.equal((await queue.start(job.id, lease.token)).status, "ok");
    assert.equal((await queue.get(job.id))?.state, "running");
  });

  test("a lease of no time is refused before anything is taken", async ({ queue }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    await assert.rejects(queue.lease({ ...brain, workerId: "w1", leaseMs: 0 }), RangeError);
    assert.equal((await queue.get(job.id))?.state, "queued");
    assert.equal((await leaseOne(queue, "w1")).job.id, job.id);
  });

  test("two workers leasing at once never get the same job", async ({ queue }) => {
    const ids = new Set<string>();
    for (let i = 0; i < 12; i++) ids.add((await queue.enqueue({ kind: "chat", input: { i } })).id);
    const leased: string[] = [];
    const drain = async (workerId: string): Promise<void> => {
      for (;;) {
        const lease = await queue.lease({ ...brain, workerId });
        if (lease === null) return;
        leased.push(lease.job.id);
      }
    };
    await Promise.all([drain("a"), drain("b"), drain("c")]);
    assert.equal(leased.length, 12);
    assert.deepEqual(new Set(leased), ids);
  });

  test("a stale worker's result is refused once its lease expired and the job was leased again", async ({ queue, advance }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const stale = await leaseOne(queue, "stalled");
    advance(1_001);
    const fresh = await leaseOne(queue, "healthy");
    assert.equal(fresh.job.id, job.id);
    assert.ok(fresh.token > stale.token, "the fencing token grows with each lease");

    assert.deepEqual(await queue.complete(job.id, stale.token, "late"), { status: "lost" });
    assert.deepEqual(await queue.renew(job.id, stale.token, 1_000), { status: "lost" });
    assert.deepEqual(await queue.fail(job.id, stale.token, "late", { retryable: true }), { status: "lost" });
    assert.equal((await queue.complete(job.id, fresh.token, "on time")).status, "ok");
    assert.deepEqual(await queue.complete(job.id, fresh.token, "twice"), { status: "lost" }, "completed exactly once");
    const done = await queue.get(job.id);
    assert.equal(done?.state, "succeeded");
    assert.equal(done?.result, "on time");
    assert.equal(done?.workerId, "healthy");
  });

  test("a result past the deadline is refused even before anyone swept the lease", async ({ queue, advance }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await leaseOne(queue, "w1");
    advance(1_000);
    assert.deepEqual(await queue.complete(job.id, lease.token, "late"), { status: "lost" });
  });

  test("renewing keeps a lease alive past its first deadline", async ({ queue, advance }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await leaseOne(queue, "w1");
    advance(800);
    const renewed = await queue.renew(job.id, lease.token, 1_000);
    assert.equal(renewed.status, "ok");
    advance(800);
    assert.equal(await queue.sweep(), 0);
    assert.equal(await queue.lease({ ...brain, workerId: "w2" }), null);
    assert.equal((await queue.progress(job.id, lease.token, 0.5, "half")).status, "ok");
    assert.deepEqual((await queue.get(job.id))?.progress, { fraction: 0.5, message: "half" });
    assert.equal((await queue.complete(job.id, lease.token, { ok: true })).status, "ok");
  });

  test("an expired lease puts the job back in the queue, then makes it dead after the last attempt", async ({ queue, advance }) => {
    const job = await queue.enqueue({ kind: "chat", input: {}, maxAttempts: 2 });
    const first = await leaseOne(queue, "w1");
    await queue.start(job.id, first.token);
    advance(1_000);
    assert.equal(await queue.sweep(), 1);
    const back = await queue.get(job.id);
    assert.equal(back?.state, "queued");
    assert.equal(back?.attempts, 1);
    assert.equal(await queue.position(job.id), 0);

    await leaseOne(queue, "w2");
    advance(1_000);
    // lease() sweeps first: no timer needed for the job to move on.
    assert.equal(await queue.lease({ ...brain, workerId: "w3" }), null);
    const dead = await queue.get(job.id);
    assert.equal(dead?.state, "dead");
    assert.equal(dead?.attempts, 2);
    assert.match(dead?.error?.message ?? "", /expired/);
  });

  test("a retryable failure waits out its backoff before the job is leased again", async ({ queue, advance }) => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await leaseOne(queue, "w1");
    const failed = await queue.fail(job.id, lease.token, "backend busy", { retryable: true });
    assert.equal(failed.status, "ok");
    assert.equal((await queue.get(job.id))?.state, "queued");
    assert.deepEqual((await queue.get(job.id))?.error, { message: "backend busy", retryable: true });
    // The suite's policy: 1 s base, random 0 → half of it.
    advance(499);
    assert.equal(await queue.lease({ ...brain, workerId: "w2" }), null);
    advance(1);
    const again = await leaseOne(queue, "w2");
    assert.equal(again.job.id, job.id);
    assert.equal(again.job.attempts, 2);
  });

  test("a retryable failure of the last attempt makes the job dead", async ({ queue }) => {
    const job = await queue.enqueue({ kind: "chat", input: {}, maxAttempts: 1 });
    const lease = await leaseOne(queue, "w1");
    await queue.fail(job.id, lease.token, "out of memory", { retryable: true });
    assert.equal((await queue.get(job.id))?.state, "dead");
  });

  test("a failure marked not retryable fails the job at once, attempts left or not", async ({ queue }) => {
    const job = await queue.enqueue({ kind: "chat", input: {}, maxAttempts: 5 });
    const lease = await leaseOne(queue, "w1");
    const outcome = await queue.fail(job.id, lease.token, "input is not a chat request", { retryable: false });
    assert.equal(outcome.status, "ok");
    const failed = await queue.get(job.id);
    assert.equal(failed?.state, "failed");
    assert.deepEqual(failed?.error, { message: "input is not a chat request", retryable: false });
    assert.equal(await queue.lease({ ...brain, workerId: "w2" }), null);
  });
}
