import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { backoffMs, decideRetry } from "./retry-policy.ts";

const policy = { baseDelayMs: 1_000, maxDelayMs: 30_000 };

test("the delay doubles with each attempt, between half of the step and all of it", () => {
  assert.equal(backoffMs(1, policy, () => 0), 500);
  assert.equal(backoffMs(2, policy, () => 0), 1_000);
  assert.equal(backoffMs(3, policy, () => 0), 2_000);
  assert.equal(backoffMs(3, policy, () => 0.999_999), 4_000);
});

test("the delay never passes the cap, nor falls under half of it once the cap is reached", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const delay = backoffMs(attempt, policy, () => r);
      const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      return delay >= step / 2 && delay <= step;
    }),
  );
});

test("an error marked not retryable fails at once; a retryable one retries until the last attempt, then is dead", () => {
  const random = (): number => 0;
  assert.deepEqual(decideRetry({ retryable: false, attempts: 1, maxAttempts: 5 }, policy, random), { kind: "fail" });
  assert.deepEqual(decideRetry({ retryable: true, attempts: 1, maxAttempts: 3 }, policy, random), { kind: "retry", delayMs: 500 });
  assert.deepEqual(decideRetry({ retryable: true, attempts: 2, maxAttempts: 3 }, policy, random), { kind: "retry", delayMs: 1_000 });
  assert.deepEqual(decideRetry({ retryable: true, attempts: 3, maxAttempts: 3 }, policy, random), { kind: "dead" });
});
