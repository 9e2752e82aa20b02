// The decisions both queues share, without a queue: fencing, deadlines,
// expiry and what each change announces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobSpecSchema, newJob, type Job } from "./job.ts";
import { cancelJob, completeJob, expireJob, failJob, leaseJob, leaseLoss, progressJob, renewJob } from "./job-lifecycle.ts";

const policy = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

function queued(maxAttempts = 3): Job {
  return newJob("j1", jobSpecSchema.parse({ kind: "chat", input: { q: 1 }, maxAttempts }), 0);
}

function leased(at = 0): Job {
  const applied = leaseJob(queued(), "w1", 1_000, at);
  assert.ok(applied.ok);
  return applied.job;
}

test("a lease takes a new epoch, counts an attempt and sets the deadline", () => {
  const job = leased(10);
  assert.equal(job.epoch, 1);
  assert.equal(job.attempts, 1);
  assert.equal(job.leaseDeadlineMs, 1_010);
  assert.equal(job.workerId, "w1");
});

test("a job in backoff is not leased before its time", () => {
  const waiting = { ...queued(), notBeforeMs: 500 };
  assert.deepEqual(leaseJob(waiting, "w", 1_000, 499), { ok: false, status: "lost" });
  assert.equal(leaseJob(waiting, "w", 1_000, 500).ok, true);
});

test("only the current epoch before its deadline may act on a lease", () => {
  const job = leased();
  assert.equal(leaseLoss(job, 1, 999), null);
  assert.equal(leaseLoss(job, 0, 10), "lost");
  assert.equal(leaseLoss(job, 2, 10), "lost");
  assert.equal(leaseLoss(job, 1, 1_000), "lost", "the deadline itself is too late");
  const cancelled = cancelJob(job, 5).outcome;
  assert.equal(cancelled.status, "cancelled");
  if (cancelled.status === "cancelled") assert.equal(leaseLoss(cancelled.job, 1, 6), "cancelled");
});

test("renew moves the deadline and announces nothing; progress is clamped and announced", () => {
  const renewed = renewJob(leased(), 1, 5_000, 900);
  assert.ok(renewed.ok);
  assert.equal(renewed.job.leaseDeadlineMs, 5_900);
  assert.equal(renewed.change, null);
  const progressed = progressJob(leased(), 1, 1.5, "over", 10);
  assert.ok(progressed.ok);
  assert.deepEqual(progressed.job.progress, { fraction: 1, message: "over" });
  assert.equal(progressed.change?.type, "progress");
});

test("complete and fail settle once, and clear the deadline", () => {
  const done = completeJob(leased(), 1, "answer", 10);
  assert.ok(done.ok);
  assert.equal(done.job.state, "succeeded");
  assert.equal(done.job.leaseDeadlineMs, null);
  assert.deepEqual(completeJob(done.job, 1, "again", 11), { ok: false, status: "lost" });
  const retried = failJob(leased(), 1, { message: "busy", retryable: true }, 10, policy, () => 0);
  assert.ok(retried.ok);
  assert.equal(retried.job.state, "queued");
  assert.equal(retried.job.notBeforeMs, 510);
});

test("expiry leaves a live lease alone, requeues an expired one, and makes the last attempt dead", () => {
  assert.equal(expireJob(leased(), 999), null);
  assert.equal(expireJob(queued(), 10_000), null);
  const back = expireJob(leased(), 1_000);
  assert.equal(back?.ok && back.job.state, "queued");
  const last = leaseJob(queued(1), "w", 1_000, 0);
  assert.ok(last.ok);
  const dead = expireJob(last.job, 1_000);
  assert.equal(dead?.ok && dead.job.state, "dead");
});

test("cancelling a terminal job is refused and changes nothing", () => {
  const done = completeJob(leased(), 1, "answer", 10);
  assert.ok(done.ok);
  assert.deepEqual(cancelJob(done.job, 20), { outcome: { status: "terminal", job: done.job }, change: null });
});

test("a spec with an input too big or not JSON is refused", () => {
  assert.equal(jobSpecSchema.safeParse({ kind: "chat", input: "x".repeat(1024 * 1024) }).success, false);
  assert.equal(jobSpecSchema.safeParse({ kind: "chat", input: 1n }).success, false);
  assert.equal(jobSpecSchema.safeParse({ kind: "chat", input: {}, maxAttempts: 0 }).success, false);
  assert.equal(jobSpecSchema.safeParse({ kind: "chat", input: {}, surprise: true }).success, false);
  assert.equal(jobSpecSchema.safeParse({ kind: "chat", input: null }).success, true);
});
