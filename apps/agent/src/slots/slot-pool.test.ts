import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError } from "@flotilla/protocol";
import { SlotPool } from "./slot-pool.ts";

const never = new AbortController().signal;

test("grants up to `total` slots at once, then queues in FIFO order", async () => {
  const pool = new SlotPool({ total: 2, maxQueued: 4, maxWaitMs: 10_000 });
  const a = await pool.acquire(never);
  const b = await pool.acquire(never);
  const order: string[] = [];
  const c = pool.acquire(never).then((r) => (order.push("c"), r));
  const d = pool.acquire(never).then((r) => (order.push("d"), r));
  assert.deepEqual(pool.status(), { total: 2, busy: 2, queued: 2 });
  a();
  (await c)();
  b();
  (await d)();
  assert.deepEqual(order, ["c", "d"]);
  assert.deepEqual(pool.status(), { total: 2, busy: 0, queued: 0 });
});

test("refuses at once with a retryable 503 when the queue is full", async () => {
  const pool = new SlotPool({ total: 1, maxQueued: 1, maxWaitMs: 10_000 });
  const release = await pool.acquire(never);
  const waiting = pool.acquire(never);
  await assert.rejects(pool.acquire(never), (err: unknown) => {
    assert.ok(err instanceof FlotillaError);
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterS, 1);
    return true;
  });
  release();
  (await waiting)();
});

test("a waiter gives up after maxWaitMs and leaves the queue", async () => {
  const pool = new SlotPool({ total: 1, maxQueued: 1, maxWaitMs: 20 });
  const release = await pool.acquire(never);
  await assert.rejects(pool.acquire(never), /no slot became free within 20 ms/);
  assert.equal(pool.status().queued, 0);
  release();
  assert.equal(pool.status().busy, 0);
});

test("an aborted waiter leaves the queue and does not take a slot later", async () => {
  const pool = new SlotPool({ total: 1, maxQueued: 2, maxWaitMs: 10_000 });
  const release = await pool.acquire(never);
  const controller = new AbortController();
  const waiting = pool.acquire(controller.signal);
  controller.abort(new Error("client went away"));
  await assert.rejects(waiting, /client went away/);
  assert.equal(pool.status().queued, 0);
  release();
  assert.deepEqual(pool.status(), { total: 1, busy: 0, queued: 0 });
});

test("releasing twice frees only one slot", async () => {
  const pool = new SlotPool({ total: 2, maxQueued: 0, maxWaitMs: 10 });
  const release = await pool.acquire(never);
  await pool.acquire(never);
  release();
  release();
  assert.equal(pool.status().busy, 1);
});

test("closed, it fails the waiting and every later request, and says when the last slot is given back", async () => {
  const pool = new SlotPool({ total: 1, maxQueued: 4, maxWaitMs: 10_000 });
  const release = await pool.acquire(never);
  const waiting = pool.acquire(never);
  let idle = false;
  const drained = pool.idle().then(() => (idle = true));
  const gone = new FlotillaError("server_busy", "unloading");
  pool.close(gone);
  await assert.rejects(waiting, (err) => err === gone);
  await assert.rejects(pool.acquire(never), (err) => err === gone);
  assert.deepEqual(pool.status(), { total: 1, busy: 1, queued: 0 });
  assert.equal(idle, false);
  release();
  await drained;
  assert.equal(idle, true);
  await pool.idle();
});
