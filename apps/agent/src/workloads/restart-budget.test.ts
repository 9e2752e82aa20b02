import { test } from "node:test";
import assert from "node:assert/strict";
import { mayRestart, restartsInWindow } from "./restart-budget.ts";

const budget = { restarts: 2, windowMs: 1_000 };

test("restarts are allowed up to the budget within the window", () => {
  assert.equal(mayRestart([], 0, budget), true);
  assert.equal(mayRestart([0], 10, budget), true);
  assert.equal(mayRestart([0, 10], 20, budget), false);
});

test("restarts older than the window no longer count", () => {
  assert.deepEqual(restartsInWindow([0, 500, 900], 1_000, budget), [500, 900]);
  assert.equal(mayRestart([0, 10], 1_010, budget), true);
  assert.equal(mayRestart([0, 10], 999, budget), false);
});

test("a budget of none never restarts", () => {
  assert.equal(mayRestart([], 0, { restarts: 0, windowMs: 1_000 }), false);
});
