// Passive health per node: when a circuit opens and for how long, the single
// probe of half-open, how ejection grows and is capped, its jitter, and the
// CircuitBook's view of which nodes a new request must avoid. The clock is a
// plain number and the random source fixed, so every time is exact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Circuit, CircuitBook, type CircuitPolicy } from "./circuit-breaker.ts";

const policy: CircuitPolicy = { failuresToOpen: 3, baseEjectionMs: 1_000, maxEjectionMs: 4_000, jitter: 0.2 };
/** random() = 0.5 puts the jitter at exactly 0: ejections are base × 2^(n−1). */
const noJitter = (): number => 0.5;

/** A circuit opened at `atMs` by failuresToOpen failures in a row. */
function opened(atMs = 0, random: () => number = noJitter): Circuit {
  const circuit = new Circuit(policy);
  for (let i = 0; i < policy.failuresToOpen; i++) circuit.failed(atMs, random);
  return circuit;
}

test("a circuit opens after failuresToOpen consecutive failures, not before", () => {
  const circuit = new Circuit(policy);
  circuit.failed(0, noJitter);
  circuit.failed(0, noJitter);
  assert.equal(circuit.state(0), "closed");
  assert.equal(circuit.allows(0), true);
  assert.equal(circuit.view(0).consecutiveFailures, 2);
  circuit.failed(0, noJitter);
  assert.equal(circuit.state(0), "open");
  assert.equal(circuit.allows(0), false);
  assert.deepEqual(circuit.view(0), { state: "open", consecutiveFailures: 3, ejectionLeftMs: 1_000, openings: 1, pausedByNode: false });
});

test("a success between failures resets the count: failures must be consecutive", () => {
  const circuit = new Circuit(policy);
  circuit.failed(0, noJitter);
  circuit.failed(0, noJitter);
  circuit.succeeded();
  assert.equal(circuit.view(0).consecutiveFailures, 0);
  circuit.failed(0, noJitter);
  circuit.failed(0, noJitter);
  assert.equal(circuit.state(0), "closed", "two failures after the success do not open it");
  circuit.failed(0, noJitter);
  assert.equal(circuit.state(0), "open");
});

test("an open circuit blocks requests until the ejection has passed, then turns half-open", () => {
  const circuit = opened(10_000);
  assert.equal(circuit.allows(10_999), false);
  assert.equal(circuit.state(10_999), "open");
  assert.equal(circuit.view(10_500).ejectionLeftMs, 500);
  assert.equal(circuit.state(11_000), "half-open");
  assert.equal(circuit.allows(11_000), true);
  assert.equal(circuit.view(11_000).ejectionLeftMs, 0);
});

test("a failure of a request sent before the circuit opened does not lengthen the ejection", () => {
  const circuit = opened(0);
  circuit.failed(500, noJitter);
  assert.equal(circuit.view(500).openings, 1);
  assert.equal(circuit.state(1_000), "half-open", "the ejection still ends at 1000");
});

test("half-open lets exactly one probe through", () => {
  const circuit = opened(0);
  assert.equal(circuit.allows(1_000), true);
  circuit.sent(1_000);
  assert.equal(circuit.allows(1_000), false, "a second request waits for the probe's verdict");
  assert.equal(circuit.allows(5_000), false, "however long the probe takes");
  assert.equal(circuit.state(5_000), "half-open");
});

test("a successful probe closes the circuit and forgets earlier openings", () => {
  const circuit = opened(0);
  circuit.sent(1_000);
  circuit.failed(1_000, noJitter); // the probe failed: second opening, 2 s
  assert.equal(circuit.view(1_000).openings, 2);
  circuit.sent(3_000);
  circuit.succeeded();
  assert.deepEqual(circuit.view(3_000), { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false });
  assert.equal(circuit.allows(3_000), true);
  // The next opening starts again from the base ejection, not 4 s.
  for (let i = 0; i < policy.failuresToOpen; i++) circuit.failed(10_000, noJitter);
  assert.deepEqual(circuit.view(10_000), { state: "open", consecutiveFailures: 3, ejectionLeftMs: 1_000, openings: 1, pausedByNode: false });
});

test("a failed probe re-opens the circuit with double the ejection, capped at maxEjectionMs", () => {
  const circuit = opened(0);
  let now = 1_000;
  const ejections: number[] = [];
  for (let i = 0; i < 4; i++) {
    assert.equal(circuit.state(now), "half-open");
    circuit.sent(now);
    circuit.failed(now, noJitter);
    assert.equal(circuit.state(now), "open", "one failed probe is enough");
    const left = circuit.view(now).ejectionLeftMs;
    ejections.push(left);
    now += left;
  }
  assert.deepEqual(ejections, [2_000, 4_000, 4_000, 4_000]);
  assert.equal(circuit.view(now).openings, 5);
});

test("jitter moves the ejection by at most ±jitter of it", () => {
  const low = opened(0, () => 0);
  assert.equal(low.view(0).ejectionLeftMs, 800, "random 0: base × (1 − 0.2)");
  assert.equal(low.state(799), "open");
  assert.equal(low.state(800), "half-open");

  const high = opened(0, () => 0.999_999);
  const left = high.view(0).ejectionLeftMs;
  assert.ok(left > 1_199 && left <= 1_200, `random ~1: just under base × (1 + 0.2), got ${left}`);
  assert.equal(high.state(1_199), "open");
  assert.equal(high.state(1_200), "half-open");
});

test("abandoned(): a probe whose client hung up lets another probe go", () => {
  const circuit = opened(0);
  circuit.sent(1_000);
  assert.equal(circuit.allows(1_000), false);
  circuit.abandoned();
  assert.equal(circuit.allows(1_000), true);
  assert.equal(circuit.state(1_000), "half-open", "no verdict: still half-open");
  assert.equal(circuit.view(1_000).openings, 1);
});

test("CircuitBook.blocked() lists only nodes that are open or half-open with their probe out", () => {
  const book = new CircuitBook(policy);
  const fail = (name: string, times: number, atMs: number): void => {
    for (let i = 0; i < times; i++) book.failed(name, atMs, noJitter);
  };
  fail("open", 3, 5_000); // open until 6000
  fail("probing", 3, 0); // half-open from 1000
  fail("half-open", 3, 0); // half-open from 1000, no probe yet
  fail("shaky", 2, 5_000); // two failures: still closed
  book.sent("probing", 5_000);
  book.sent("shaky", 5_000);
  book.sent("healthy", 5_000);

  assert.deepEqual([...book.blocked(5_000)].sort(), ["open", "probing"]);
  assert.equal(book.view("half-open", 5_000).state, "half-open");
  assert.equal(book.view("healthy", 5_000).state, "closed", "a node never seen is closed");

  book.succeeded("probing");
  assert.deepEqual([...book.blocked(5_000)], ["open"], "a successful probe unblocks its node");
  assert.deepEqual([...book.blocked(6_000)], [], "the open one turns half-open when its ejection passes");

  book.sent("open", 6_000);
  assert.deepEqual([...book.blocked(6_000)], ["open"], "and is blocked again while its probe is out");
  book.abandoned("open");
  assert.deepEqual([...book.blocked(6_000)], []);
});

test("CircuitBook.forget() drops a removed node's circuit", () => {
  const book = new CircuitBook(policy);
  for (let i = 0; i < 3; i++) book.failed("gone", 0, noJitter);
  assert.deepEqual([...book.blocked(0)], ["gone"]);
  book.forget("gone");
  assert.deepEqual([...book.blocked(0)], []);
  assert.deepEqual(book.view("gone", 0), { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false });
  // A node of the same name that joins later starts with a clean record.
  book.failed("gone", 0, noJitter);
  assert.equal(book.view("gone", 0).consecutiveFailures, 1);
  assert.equal(book.view("gone", 0).state, "closed");
});

test("a node that asks for time is paused until then without a failure counted, then probed once", () => {
  const circuit = new Circuit(policy);
  circuit.pause(30_000);
  assert.deepEqual(circuit.view(0), { state: "open", consecutiveFailures: 0, ejectionLeftMs: 30_000, openings: 0, pausedByNode: true });
  assert.equal(circuit.allows(29_999), false);
  assert.equal(circuit.allows(30_000), true, "half-open: one request finds out");
  circuit.sent(30_000);
  assert.equal(circuit.allows(30_001), false, "only the one probe");
  circuit.succeeded();
  assert.deepEqual(circuit.view(30_002), { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false });
  // A pause shorter than an ejection already running does not shorten it.
  for (let i = 0; i < 3; i++) circuit.failed(40_000, () => 0.5);
  const ejectedUntil = 40_000 + circuit.view(40_000).ejectionLeftMs;
  circuit.pause(40_001);
  assert.equal(40_000 + circuit.view(40_000).ejectionLeftMs, ejectedUntil);
  assert.equal(circuit.view(40_000).pausedByNode, false);
});
