import { test } from "node:test";
import assert from "node:assert/strict";
import { generateSecret } from "@flotilla/security";
import { estimatedBits, weakAdminKeyReason } from "./admin-key-strength.ts";

test("short, repeated or single-character keys are refused, saying what is needed", () => {
  for (const key of ["a", "changeme", "a".repeat(64), "password".repeat(4), "flt_admin_test", "0123456789abcdef"]) {
    const reason = weakAdminKeyReason(key);
    assert.ok(reason !== null, `${key} must be refused`);
    assert.match(reason, /at least 32 characters and 128 bits/);
    if (key.length >= 8) assert.ok(!reason.includes(key), "the message does not repeat the key");
  }
});

test("generated and random keys are accepted", () => {
  assert.equal(weakAdminKeyReason(generateSecret("admin")), null);
  assert.equal(weakAdminKeyReason("9f2KxQ7pLm4vT8wZ1cR6bN3yH5jD0sAe"), null);
});

test("the estimate is length × log2 of the distinct characters", () => {
  assert.equal(estimatedBits("aaaa"), 0);
  assert.equal(estimatedBits("abab"), 4);
  assert.equal(estimatedBits("0123456789abcdef".repeat(2)), 128);
});
