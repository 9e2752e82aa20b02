// The busy queue: requests waiting while every node able to take them is
// full. Order (priority, then FIFO), its bounds (depth, wait time) and the 503
// server_busy with Retry-After past them, cancellation, waiters for other
// models not blocking each other, the periodic re-check and close().
// Capacity is simulated by slot counters that a waiter's tryNow takes from.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError } from "@flotilla/protocol";
import { BusyQueue, type BusyQueuePolicy } from "./busy-queue.ts";
import type { Priority, QueueExit } from "./types.ts";

/** Long enough never to fire during a test unless the test means it to. */
const LONG_MS = 60_000;
const policy = (overrides: Partial<BusyQueuePolicy> = {}): BusyQueuePolicy => ({
  maxDepth: 16,
  maxWaitMs: LONG_MS,
  recheckMs: LONG_MS,
  ...overrides,
});

/** Free slots of one model; take() is what a waiter's tryNow does. */
class Slots {
  free = 0;
  take(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }
}

const never = new AbortController().signal;

function isServerBusy(err: unknown): boolean {
  assert.ok(err instanceof FlotillaError, `expected a FlotillaError, got ${String(err)}`);
  assert.equal(err.code, "server_busy");
  assert.equal(err.status, 503);
  assert.equal(typeof err.retryAfterS, "number", "Retry-After is set");
  assert.ok((err.retryAfterS ?? 0) > 0);
  return true;
}

test("freed slots go to waiters high before normal before low, first come first served within each", async () => {
  const queue = new BusyQueue(policy(), () => 0);
  const slots = new Slots();
  const served: string[] = [];
  const enqueue = (label: string, priority: Priority) =>
    queue.wait(priority, never, () => {
      if (!slots.take()) return false;
      served.push(label);
      return true;
    });
  const waits = [
    enqueue("low-1", "low"),
    enqueue("normal-1", "normal"),
    enqueue("high-1", "high"),
    enqueue("normal-2", "normal"),
    enqueue("low-2", "low"),
    enqueue("high-2", "high"),
  ];
  assert.equal(queue.depth, 6);
  queue.offer();
  assert.deepEqual(served, [], "no capacity, nobody goes");

  for (let i = 0; i < 6; i++) {
    slots.free = 1;
    queue.offer();
    assert.equal(slots.free, 0);
    assert.equal(queue.depth, 5 - i, "one slot, one waiter");
  }
  assert.deepEqual(served, ["high-1", "high-2", "normal-1", "normal-2", "low-1", "low-2"]);
  await Promise.all(waits);
});

test("the wait resolves with the time waited, and onExit hears every way out", async () => {
  let now = 1_000;
  const exits: [number, QueueExit][] = [];
  const queue = new BusyQueue(policy({ maxDepth: 2, maxWaitMs: 20 }), () => now, (waitedMs, exit) => exits.push([waitedMs, exit]));
  const slots = new Slots();

  const dispatched = queue.wait("normal", never, () => slots.take());
  now = 1_030;
  slots.free = 1;
  queue.offer();
  assert.deepEqual(await dispatched, { waitedMs: 30 });

  const controller = new AbortController();
  const cancelled = queue.wait("normal", controller.signal, () => false);
  const timedOut = queue.wait("normal", never, () => false);
  await assert.rejects(queue.wait("normal", never, () => true), isServerBusy); // overflow
  controller.abort(new Error("client hung up"));
  await assert.rejects(cancelled, /client hung up/);
  await assert.rejects(timedOut, isServerBusy);

  assert.deepEqual(exits.map(([, exit]) => exit), ["dispatched", "overflow", "cancelled", "timeout"]);
  assert.deepEqual(exits[0], [30, "dispatched"]);
  assert.deepEqual(exits[1], [0, "overflow"]);
});

test("past maxDepth a request is refused at once with 503 server_busy and Retry-After", async () => {
  const exits: QueueExit[] = [];
  const queue = new BusyQueue(policy({ maxDepth: 2 }), () => 0, (_ms, exit) => exits.push(exit));
  const slots = new Slots();
  const waiting = [queue.wait("high", never, () => slots.take()), queue.wait("low", never, () => slots.take())];
  let tried = false;
  await assert.rejects(queue.wait("high", never, () => (tried = true)), (err: unknown) => {
    isServerBusy(err);
    assert.match((err as Error).message, /2 requests are already waiting/);
    return true;
  });
  assert.equal(tried, false, "a refused request never takes a slot");
  assert.equal(queue.depth, 2, "the refusal does not count as waiting");
  assert.deepEqual(exits, ["overflow"]);

  slots.free = 2;
  queue.offer();
  await Promise.all(waiting);
  assert.equal(queue.depth, 0);
});

test("a wait longer than maxWaitMs is refused with server_busy and leaves the queue", async () => {
  const queue = new BusyQueue(policy({ maxWaitMs: 20 }), () => 0);
  let offered = 0;
  const started = Date.now();
  await assert.rejects(queue.wait("normal", never, () => {
    offered++;
    return false;
  }), isServerBusy);
  assert.ok(Date.now() - started >= 15, "it did wait");
  assert.equal(queue.depth, 0);
  queue.offer();
  assert.equal(offered, 0, "a timed-out waiter is never offered capacity again");
});

test("an aborted signal rejects with the signal's reason and leaves the queue", async () => {
  const queue = new BusyQueue(policy(), () => 0);
  const controller = new AbortController();
  let offered = 0;
  const waiting = queue.wait("normal", controller.signal, () => {
    offered++;
    return false;
  });
  assert.equal(queue.depth, 1);
  const reason = new Error("the client closed the connection");
  controller.abort(reason);
  await assert.rejects(waiting, (err: unknown) => err === reason);
  assert.equal(queue.depth, 0);
  queue.offer();
  assert.equal(offered, 0);

  // Already aborted: never enters the queue.
  await assert.rejects(async () => queue.wait("normal", controller.signal, () => true), (err: unknown) => err === reason);
  assert.equal(queue.depth, 0);
});

test("a waiter for a full model does not block a later waiter for a model with room", async () => {
  const queue = new BusyQueue(policy(), () => 0);
  const big = new Slots();
  const small = new Slots();
  let bigDone = false;
  const bigWait = queue.wait("high", never, () => big.take()).then(() => (bigDone = true));
  const smallWait = queue.wait("low", never, () => small.take());
  small.free = 1;
  queue.offer();
  await smallWait;
  assert.equal(bigDone, false);
  assert.equal(queue.depth, 1, "the big-model waiter is still there");
  big.free = 1;
  queue.offer();
  await bigWait;
  assert.equal(queue.depth, 0);
});

test("the periodic re-check dispatches a waiter when capacity appears without any offer()", async () => {
  const queue = new BusyQueue(policy({ recheckMs: 20, maxWaitMs: 2_000 }), () => 0);
  const slots = new Slots();
  const waiting = queue.wait("normal", never, () => slots.take());
  setTimeout(() => (slots.free = 1), 10); // a node joined or its circuit closed
  await waiting;
  assert.equal(slots.free, 0);
  assert.equal(queue.depth, 0);
});

test("close() rejects every waiter with server_busy", async () => {
  const exits: QueueExit[] = [];
  const queue = new BusyQueue(policy(), () => 0, (_ms, exit) => exits.push(exit));
  const waits = [queue.wait("high", never, () => false), queue.wait("normal", never, () => false), queue.wait("low", never, () => false)];
  queue.close();
  for (const w of waits) await assert.rejects(w, isServerBusy);
  assert.equal(queue.depth, 0);
  assert.deepEqual(exits, ["cancelled", "cancelled", "cancelled"]);
});

test("maxDepth 0 turns the queue off", async () => {
  assert.equal(new BusyQueue(policy({ maxDepth: 0 }), () => 0).disabled, true);
  assert.equal(new BusyQueue(policy({ maxDepth: 1 }), () => 0).disabled, false);
  await assert.rejects(new BusyQueue(policy({ maxDepth: 0 }), () => 0).wait("high", never, () => true), isServerBusy);
});
