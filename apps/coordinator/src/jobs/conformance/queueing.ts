// Enqueue, read back, list, count, idempotency, order and positions.
import assert from "node:assert/strict";
import { ZodError } from "zod";
import { zeroCounts } from "../job-queue.ts";
import type { QueueTest } from "./fixture.ts";

const worker = { workerId: "w1", leaseMs: 10_000 } as const;

export function queueingConformance(test: QueueTest): void {
  test("an enqueued job is queued in its kind's pool with the spec's defaults, and get() reads it back", async ({ queue, nowMs }) => {
    const job = await queue.enqueue({ kind: "image", input: { prompt: "a lighthouse" } });
    assert.equal(job.state, "queued");
    assert.equal(job.pool, "vision");
    assert.equal(job.priority, "normal");
    assert.equal(job.maxAttempts, 3);
    assert.equal(job.attempts, 0);
    assert.equal(job.createdAtMs, nowMs());
    assert.deepEqual(await queue.get(job.id), job);
    assert.equal(await queue.get("job_nope"), null);
  });

  test("a job may name its pool", async ({ queue }) => {
    const job = await queue.enqueue({ kind: "chat", pool: "edge", input: {} });
    assert.equal(job.pool, "edge");
    assert.equal((await queue.counts("edge")).queued, 1);
    assert.equal((await queue.counts("brain")).queued, 0);
  });

  test("a bad spec is refused with a ZodError naming the field, and nothing is queued", async ({ queue }) => {
    await assert.rejects(queue.enqueue({ kind: "hologram" } as never), (err: unknown) => {
      assert.ok(err instanceof ZodError);
      assert.deepEqual(err.issues[0]?.path, ["kind"]);
      return true;
    });
    await assert.rejects(queue.enqueue({ kind: "chat", input: {}, pool: "Not A Pool" }), ZodError);
    assert.deepEqual(await queue.counts("brain"), zeroCounts());
    assert.deepEqual((await queue.list({}, { limit: 10 })).jobs, []);
  });

  test("the same idempotency key gives back the same job and queues no second one", async ({ queue }) => {
    const first = await queue.enqueue({ kind: "chat", input: { n: 1 }, idempotencyKey: "k-1" });
    const again = await queue.enqueue({ kind: "chat", input: { n: 2 }, idempotencyKey: "k-1" });
    const other = await queue.enqueue({ kind: "chat", input: { n: 1 }, idempotencyKey: "k-2" });
    assert.equal((await queue.byIdempotencyKey("k-1"))?.id, first.id);
    assert.equal(await queue.byIdempotencyKey("k-3"), null);
    assert.equal(again.id, first.id);
    assert.deepEqual(again.input, { n: 1 });
    assert.notEqual(other.id, first.id);
    assert.equal((await queue.counts("brain")).queued, 2);
  });

  test("list filters by state, pool and kind, oldest first, a page at a time", async ({ queue }) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await queue.enqueue({ kind: "chat", input: { i } })).id);
    const speech = await queue.enqueue({ kind: "speech", input: {} });
    const leased = await queue.lease({ pool: "brain", kinds: ["chat"], ...worker });
    assert.equal(leased?.job.id, ids[0]);

    const first = await queue.list({ pool: "brain" }, { limit: 2 });
    assert.deepEqual(first.jobs.map((j) => j.id), ids.slice(0, 2));
    assert.notEqual(first.nextCursor, null);
    const second = await queue.list({ pool: "brain" }, { cursor: first.nextCursor, limit: 2 });
    assert.deepEqual(second.jobs.map((j) => j.id), ids.slice(2, 4));
    const third = await queue.list({ pool: "brain" }, { cursor: second.nextCursor, limit: 2 });
    assert.deepEqual(third.jobs.map((j) => j.id), ids.slice(4));
    assert.equal(third.nextCursor, null);

    assert.deepEqual((await queue.list({ state: "leased" }, { limit: 10 })).jobs.map((j) => j.id), [ids[0]]);
    assert.deepEqual((await queue.list({ kind: "speech" }, { limit: 10 })).jobs.map((j) => j.id), [speech.id]);
    assert.deepEqual((await queue.list({ pool: "voice", state: "queued" }, { limit: 10 })).jobs.map((j) => j.id), [speech.id]);
    assert.equal((await queue.list({}, { limit: 100 })).jobs.length, 6);
    await assert.rejects(queue.list({}, { cursor: "not-a-cursor", limit: 10 }), /cursor/);
  });

  test("list filters by owner and parent, and a job keeps who owns it and its webhook", async ({ queue }) => {
    const mine = await queue.enqueue({ kind: "chat", input: {}, owner: "key-a", webhookUrl: "http://127.0.0.1:9/hook" });
    const child = await queue.enqueue({ kind: "chat", input: {}, owner: "key-a", parentId: mine.id });
    await queue.enqueue({ kind: "chat", input: {}, owner: "key-b" });
    assert.deepEqual((await queue.list({ owner: "key-a" }, { limit: 10 })).jobs.map((j) => j.id), [mine.id, child.id]);
    assert.deepEqual((await queue.list({ parentId: mine.id }, { limit: 10 })).jobs.map((j) => j.id), [child.id]);
    assert.deepEqual((await queue.list({ owner: "key-b", parentId: mine.id }, { limit: 10 })).jobs, []);
    const stored = await queue.get(mine.id);
    assert.equal(stored?.owner, "key-a");
    assert.equal(stored?.webhookUrl, "http://127.0.0.1:9/hook");
    assert.equal(stored?.parentId, null);
  });

  test("counts() gives every state of a pool", async ({ queue }) => {
    await queue.enqueue({ kind: "chat", input: {} });
    await queue.enqueue({ kind: "chat", input: {} });
    const one = await queue.lease({ pool: "brain", kinds: ["chat"], ...worker });
    assert.ok(one);
    await queue.start(one.job.id, one.token);
    assert.deepEqual(await queue.counts("brain"), { ...zeroCounts(), queued: 1, running: 1 });
    await queue.complete(one.job.id, one.token, "done");
    assert.deepEqual(await queue.counts("brain"), { ...zeroCounts(), queued: 1, succeeded: 1 });
  });

  test("jobs are leased by priority, first in first out within one, and position() says how many are ahead", async ({ queue }) => {
    const low = await queue.enqueue({ kind: "chat", priority: "low", input: {} });
    const normal1 = await queue.enqueue({ kind: "chat", input: {} });
    const high = await queue.enqueue({ kind: "completion", priority: "high", input: {} });
    const normal2 = await queue.enqueue({ kind: "completion", input: {} });
    const elsewhere = await queue.enqueue({ kind: "image", input: {} });

    assert.equal(await queue.position(high.id), 0);
    assert.equal(await queue.position(normal1.id), 1);
    assert.equal(await queue.position(normal2.id), 2);
    assert.equal(await queue.position(low.id), 3);
    assert.equal(await queue.position(elsewhere.id), 0, "another pool's queue");
    assert.equal(await queue.position("job_nope"), null);

    const order: string[] = [];
    for (;;) {
      const lease = await queue.lease({ pool: "brain", kinds: ["chat", "completion"], ...worker });
      if (lease === null) break;
      order.push(lease.job.id);
      assert.equal(await queue.position(lease.job.id), null, "a leased job has no place in the queue");
    }
    assert.deepEqual(order, [high.id, normal1.id, normal2.id, low.id]);
  });

  test("a job of a kind no worker serves stays queued, first in its queue", async ({ queue }) => {
    const video = await queue.enqueue({ kind: "video", pool: "brain", input: {} });
    const chat = await queue.enqueue({ kind: "chat", input: {} });
    const lease = await queue.lease({ pool: "brain", kinds: ["chat"], ...worker });
    assert.equal(lease?.job.id, chat.id);
    assert.equal(await queue.lease({ pool: "brain", kinds: ["chat", "embedding"], ...worker }), null);
    assert.equal(await queue.lease({ pool: "video", kinds: ["video"], ...worker }), null, "it was queued in the pool it named");
    assert.equal(await queue.lease({ pool: "brain", kinds: [], ...worker }), null);
    assert.equal((await queue.get(video.id))?.state, "queued");
    assert.equal(await queue.position(video.id), 0);
  });
}
