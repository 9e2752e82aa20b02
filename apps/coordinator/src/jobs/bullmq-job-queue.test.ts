// The BullMQ queue against the conformance suite, on a redis-server this
// file starts itself; each test has its own key prefix, so none sees
// another's jobs. Then what is Redis's own: a second coordinator on the same
// Redis shares the queue, and the deliveries BullMQ holds follow the records.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents, Worker } from "bullmq";
import { once } from "node:events";
import { BullMqJobQueue } from "./bullmq-job-queue.ts";
import { jobQueueConformance } from "./job-queue-conformance.ts";
import { startRedisServer, type RedisServer } from "@flotilla/testkit";

let redis: RedisServer | undefined;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis?.stop();
});

function url(): string {
  if (redis === undefined) throw new Error("redis-server did not start");
  return redis.url;
}

jobQueueConformance("BullMqJobQueue", (options) => {
  const queue = new BullMqJobQueue({ ...options, url: url(), prefix: `t-${randomUUID()}` });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

test("two coordinators on one Redis share its jobs: one enqueues, the other leases and completes", async () => {
  const prefix = `t-${randomUUID()}`;
  const one = new BullMqJobQueue({ url: url(), prefix });
  const two = new BullMqJobQueue({ url: url(), prefix });
  try {
    const job = await one.enqueue({ kind: "speech", input: { text: "hello" }, idempotencyKey: "k" });
    assert.equal((await two.enqueue({ kind: "speech", input: {}, idempotencyKey: "k" })).id, job.id);
    const lease = await two.lease({ pool: "voice", kinds: ["speech"], workerId: "w", leaseMs: 30_000 });
    assert.equal(lease?.job.id, job.id);
    assert.equal(await one.lease({ pool: "voice", kinds: ["speech"], workerId: "w2", leaseMs: 30_000 }), null);
    assert.ok(lease);
    assert.equal((await two.complete(job.id, lease.token, { audio: "x" })).status, "ok");
    assert.equal((await one.get(job.id))?.state, "succeeded");
  } finally {
    await one.close();
    await two.close();
  }
});

/** BullMQ's own view of one pool-and-kind queue under `prefix`, as an operator's dashboard would read it. */
async function bullCounts(prefix: string, name: string): Promise<Record<string, number>> {
  const queue = new Queue(name, { connection: { url: url() }, prefix: `${prefix}:bull` });
  try {
    return await queue.getJobCounts("prioritized", "wait", "active", "completed", "failed", "delayed");
  } finally {
    await queue.close();
  }
}

test("each lease is a BullMQ job taken by getNextJob, and a settled one leaves BullMQ's queue", async () => {
  const prefix = `t-${randomUUID()}`;
  const queue = new BullMqJobQueue({ url: url(), prefix });
  try {
    const job = await queue.enqueue({ kind: "chat", input: {}, priority: "high" });
    const cancelled = await queue.enqueue({ kind: "chat", input: {} });
    assert.equal((await bullCounts(prefix, "brain.chat")).prioritized, 2);
    await queue.cancel(cancelled.id);
    assert.equal((await bullCounts(prefix, "brain.chat")).prioritized, 1, "a cancelled job's waiting delivery is removed");
    const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 30_000 });
    assert.equal(lease?.job.id, job.id);
    assert.deepEqual(await bullCounts(prefix, "brain.chat"), { prioritized: 0, wait: 0, active: 1, completed: 0, failed: 0, delayed: 0 });
    assert.ok(lease);
    await queue.complete(job.id, lease.token, "done");
    assert.deepEqual(await bullCounts(prefix, "brain.chat"), { prioritized: 0, wait: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
  } finally {
    await queue.close();
  }
});

test("a delivery the records do not know of, or of a settled job, is dropped when taken", async () => {
  const prefix = `t-${randomUUID()}`;
  const queue = new BullMqJobQueue({ url: url(), prefix });
  const bull = new Queue("brain.chat", { connection: { url: url() }, prefix: `${prefix}:bull` });
  try {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 30_000 });
    assert.ok(lease);
    await queue.complete(job.id, lease.token, "done");
    // What a coordinator that died half-way could leave behind: a second
    // delivery of a finished job, and one that is not ours at all.
    await bull.add("chat", { id: job.id, delivery: 1 }, { jobId: `${job.id}-again`, priority: 1 });
    await bull.add("chat", { something: "else" }, { priority: 1 });
    const fresh = await queue.enqueue({ kind: "chat", input: {} });
    const next = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 30_000 });
    assert.equal(next?.job.id, fresh.id);
    assert.equal((await queue.get(job.id))?.state, "succeeded");
    assert.equal((await bullCounts(prefix, "brain.chat")).prioritized, 0);
  } finally {
    await bull.close();
    await queue.close();
  }
});

test("a delivery taken by a coordinator that died before recording the lease goes back to the queue once its lock lapses", async () => {
  const prefix = `t-${randomUUID()}`;
  const queue = new BullMqJobQueue({ url: url(), prefix, stalledIntervalMs: 100 });
  const bull = { connection: { url: url() }, prefix: `${prefix}:bull` };
  const events = new QueueEvents("brain.chat", bull);
  const crashed = new Worker("brain.chat", null, { ...bull, autorun: false, lockDuration: 200 });
  try {
    await events.waitUntilReady();
    const job = await queue.enqueue({ kind: "chat", input: {} });
    // What the dead coordinator got as far as: BullMQ's lock, and no lease in the record.
    assert.equal((await crashed.getNextJob("dead-coordinator", { block: false }))?.data.id, job.id);
    assert.equal(await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 30_000 }), null);
    await once(events, "stalled");
    const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 30_000 });
    assert.equal(lease?.job.id, job.id);
    assert.equal(lease?.job.attempts, 1, "the lost take was never an attempt");
  } finally {
    await crashed.close(true);
    await events.close();
    await queue.close();
  }
});

test("jobs stored before the owner and parent indexes existed are indexed once, on the first list", async () => {
  const prefix = `t-${randomUUID()}`;
  const writer = new BullMqJobQueue({ url: url(), prefix });
  const { Redis } = await import("ioredis");
  const raw = new Redis(url());
  try {
    const parent = await writer.enqueue({ kind: "split", input: {}, owner: "key:a" });
    const child = await writer.enqueue({ kind: "chat", input: {}, owner: "key:a", parentId: parent.id });
    await writer.enqueue({ kind: "chat", input: {}, owner: "key:b" });
    // As an older version left Redis: no owner or parent index, no mark.
    await raw.del(`${prefix}:owner:key:a`, `${prefix}:owner-queued:key:a`, `${prefix}:children:${parent.id}`, `${prefix}:index-version`);
    const reader = new BullMqJobQueue({ url: url(), prefix });
    try {
      assert.deepEqual((await reader.list({ owner: "key:a" }, { limit: 10 })).jobs.map((j) => j.id), [parent.id, child.id]);
      assert.deepEqual((await reader.list({ owner: "key:a", state: "queued" }, { limit: 10 })).jobs.map((j) => j.id), [parent.id, child.id]);
      assert.deepEqual((await reader.list({ parentId: parent.id }, { limit: 10 })).jobs.map((j) => j.id), [child.id]);
      assert.equal(await raw.get(`${prefix}:index-version`), "1");
    } finally {
      await reader.close();
    }
  } finally {
    raw.disconnect();
    await writer.close();
  }
});
