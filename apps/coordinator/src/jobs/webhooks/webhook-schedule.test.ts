import { test } from "node:test";
import assert from "node:assert/strict";
import { afterFailedSend, DEFAULT_WEBHOOK_SCHEDULE } from "./webhook-schedule.ts";

test("a failed send is retried after a doubling wait, capped at an hour, then given up", () => {
  const waits: number[] = [];
  let attempts = 1;
  for (;;) {
    const next = afterFailedSend(attempts, 0, DEFAULT_WEBHOOK_SCHEDULE, () => 1 - 1e-12);
    if (next.kind === "give_up") break;
    waits.push(next.atMs);
    attempts++;
  }
  assert.equal(attempts, DEFAULT_WEBHOOK_SCHEDULE.maxAttempts);
  assert.deepEqual(waits.slice(0, 3), [5_000, 10_000, 20_000]);
  assert.equal(Math.max(...waits), 3_600_000);
  const total = waits.reduce((sum, wait) => sum + wait, 0);
  assert.ok(total > 2 * 3_600_000 && total < 4.5 * 3_600_000, `tries for ${total / 3_600_000} h`);
});

test("the wait is jittered, never under half its step", () => {
  const low = afterFailedSend(3, 1_000, DEFAULT_WEBHOOK_SCHEDULE, () => 0);
  assert.deepEqual(low, { kind: "retry", atMs: 1_000 + 10_000 });
});
