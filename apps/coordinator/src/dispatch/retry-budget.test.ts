// The retry budget: retries limited to a share of recent requests plus a
// floor, so retrying cannot multiply the load of an outage; counts kept in
// one-second buckets that age out of the window.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RetryBudget } from "./retry-budget.ts";

/** Calls tryRetry until it refuses (or `limit` times); returns how many it allowed. */
function spend(budget: RetryBudget, nowMs: number, limit = 1_000): number {
  let allowed = 0;
  while (allowed < limit && budget.tryRetry(nowMs)) allowed++;
  return allowed;
}

test("retries are capped at ratio × requests: 100 requests, ratio 0.2, 20 retries", () => {
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 });
  for (let i = 0; i < 100; i++) budget.request(0);
  assert.equal(spend(budget, 0), 20);
  assert.equal(budget.tryRetry(0), false, "the 21st is refused, and stays refused");
  assert.deepEqual(budget.totals(0), { requests: 100, retries: 20 });
});

test("without traffic and without a floor, no retry is allowed", () => {
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 });
  assert.equal(budget.tryRetry(0), false);
  assert.deepEqual(budget.totals(0), { requests: 0, retries: 0 }, "a refused retry is not counted");
});

test("the floor allows minPerSecond × window seconds retries with no traffic at all", () => {
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 2, windowMs: 10_000 });
  assert.equal(spend(budget, 0), 20);
  // Requests add to the floor.
  for (let i = 0; i < 10; i++) budget.request(0);
  assert.equal(spend(budget, 0), 2);
});

test("spent retries age out after windowMs, and the budget is available again", () => {
  const budget = new RetryBudget({ ratio: 0, minPerSecond: 1, windowMs: 10_000 });
  assert.equal(spend(budget, 0), 10);
  assert.equal(budget.tryRetry(9_999), false, "still within the window");
  assert.equal(spend(budget, 10_000), 10, "the retries at 0 s no longer count");
});

test("requests age out too: a burst long ago does not pay for retries now", () => {
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 });
  for (let i = 0; i < 100; i++) budget.request(0);
  assert.deepEqual(budget.totals(10_000), { requests: 0, retries: 0 });
  assert.equal(budget.tryRetry(10_000), false);
  for (let i = 0; i < 10; i++) budget.request(10_000);
  assert.equal(spend(budget, 10_000), 2);
});

test("expiry is per one-second bucket: half the window ages out, the other half still counts", () => {
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 });
  for (let i = 0; i < 50; i++) budget.request(0);
  assert.equal(spend(budget, 0), 10);
  for (let i = 0; i < 50; i++) budget.request(5_000);
  assert.equal(spend(budget, 5_000), 10, "100 requests now allow 20 retries, 10 of them used");
  assert.deepEqual(budget.totals(9_999), { requests: 100, retries: 20 });

  // The bucket of second 0 leaves the window at 10 s; the one of second 5 stays until 15 s.
  assert.deepEqual(budget.totals(10_000), { requests: 50, retries: 10 });
  assert.equal(budget.tryRetry(10_000), false, "50 requests allow 10 retries, all spent at 5 s");
  assert.deepEqual(budget.totals(14_999), { requests: 50, retries: 10 });
  assert.deepEqual(budget.totals(15_000), { requests: 0, retries: 0 });
});
