import { test } from "node:test";
import assert from "node:assert/strict";
import { healthPolicy, judgeHealth } from "./node-health.ts";

const policy = healthPolicy(5_000);

test("a node heard from within one interval and a half is ready", () => {
  assert.equal(judgeHealth(10_000, 10_000, policy), "ready");
  assert.equal(judgeHealth(10_000, 17_500, policy), "ready");
});

test("then suspect, then down after the TTL of three intervals", () => {
  assert.equal(judgeHealth(10_000, 17_501, policy), "suspect");
  assert.equal(judgeHealth(10_000, 25_000, policy), "suspect");
  assert.equal(judgeHealth(10_000, 25_001, policy), "down");
});

test("a node not heard from since start-up is down until it beats", () => {
  assert.equal(judgeHealth(null, 0, policy), "down");
});

test("the TTL is configurable in intervals", () => {
  assert.equal(healthPolicy(1_000, 5).downAfterMs, 5_000);
});
