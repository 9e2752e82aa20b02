import { test } from "node:test";
import assert from "node:assert/strict";
import { addressKey, FailureLimiter } from "./failure-limiter.ts";

function limiter(maxFailures: number, windowMs: number, maxAddresses?: number) {
  let now = 1_000_000;
  const l = new FailureLimiter({ maxFailures, windowMs, nowMs: () => now, ...(maxAddresses === undefined ? {} : { maxAddresses }) });
  return { l, advance: (ms: number) => (now += ms) };
}

test("an address may fail maxFailures times, then is refused with the wait until its next try", () => {
  const { l } = limiter(3, 3_000);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(l.check("10.0.0.1"), { allowed: true });
    l.recordFailure("10.0.0.1");
  }
  // One failure back per second (3 per 3 s).
  assert.deepEqual(l.check("10.0.0.1"), { allowed: false, retryAfterS: 1 });
  // Another address is not affected.
  assert.deepEqual(l.check("10.0.0.2"), { allowed: true });
});

test("failures age out: one more try per windowMs / maxFailures, a full bucket after windowMs", () => {
  const { l, advance } = limiter(4, 20_000);
  for (let i = 0; i < 4; i++) l.recordFailure("10.0.0.1");
  assert.deepEqual(l.check("10.0.0.1"), { allowed: false, retryAfterS: 5 });
  advance(2_000);
  assert.deepEqual(l.check("10.0.0.1"), { allowed: false, retryAfterS: 3 });
  advance(3_000);
  assert.deepEqual(l.check("10.0.0.1"), { allowed: true });
  l.recordFailure("10.0.0.1");
  assert.equal(l.check("10.0.0.1").allowed, false, "one try back, spent again");
  advance(20_000);
  for (let i = 0; i < 4; i++) {
    assert.equal(l.check("10.0.0.1").allowed, true, `try ${i + 1} after a full window`);
    l.recordFailure("10.0.0.1");
  }
  assert.equal(l.check("10.0.0.1").allowed, false);
});

test("a clock that goes back neither refills nor breaks the bucket", () => {
  const { l, advance } = limiter(2, 2_000);
  l.recordFailure("10.0.0.1");
  l.recordFailure("10.0.0.1");
  advance(-60_000);
  assert.equal(l.check("10.0.0.1").allowed, false);
});

test("the addresses tracked are bounded: refilled ones go first, then the longest-tracked", () => {
  const { l, advance } = limiter(2, 1_000, 3);
  l.recordFailure("10.0.0.1");
  l.recordFailure("10.0.0.1");
  advance(5_000);
  l.recordFailure("10.0.0.2");
  l.recordFailure("10.0.0.2");
  l.recordFailure("10.0.0.3");
  l.recordFailure("10.0.0.3");
  l.recordFailure("10.0.0.4");
  l.recordFailure("10.0.0.4");
  assert.equal(l.size, 3, "10.0.0.1 had refilled and was forgotten");
  assert.equal(l.check("10.0.0.2").allowed, false);
  l.recordFailure("10.0.0.5");
  assert.equal(l.size, 3);
  assert.equal(l.check("10.0.0.2").allowed, true, "the longest-tracked was dropped to stay within the bound");
  assert.equal(l.check("10.0.0.4").allowed, false);
});

test("IPv6 addresses count by their /64; IPv4-mapped ones as IPv4", () => {
  assert.equal(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:0db8:0001:0002:ffff:1:2:3"), "2001:db8:1:2::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("fe80::1"), "fe80:0:0:0::/64");
  assert.equal(addressKey("::ffff:192.168.1.9"), "192.168.1.9");
  assert.equal(addressKey("192.168.1.9"), "192.168.1.9");
  const { l } = limiter(1, 1_000);
  l.recordFailure("2001:db8:1:2::1");
  assert.equal(l.check("2001:db8:1:2::99").allowed, false, "another address in the same /64");
  assert.equal(l.check("2001:db8:1:3::1").allowed, true);
});

test("a limit that can never allow anything is refused at construction", () => {
  assert.throws(() => new FailureLimiter({ maxFailures: 0, windowMs: 1_000, nowMs: () => 0 }), RangeError);
  assert.throws(() => new FailureLimiter({ maxFailures: 1, windowMs: 0, nowMs: () => 0 }), RangeError);
});
