// The lifecycle table itself: every state and event, so a new state or event
// cannot slip in without its moves being decided.
import { test } from "node:test";
import assert from "node:assert/strict";
import { JOB_EVENTS, JOB_STATES, JOB_TRANSITIONS, isTerminal, transition } from "./job-state.ts";

test("the happy path is queued → leased → running → succeeded", () => {
  assert.deepEqual(transition("queued", "lease"), { ok: true, to: "leased" });
  assert.deepEqual(transition("leased", "start"), { ok: true, to: "running" });
  assert.deepEqual(transition("running", "complete"), { ok: true, to: "succeeded" });
});

test("a held lease goes back to the queue on expiry or retry, and to dead after the last attempt", () => {
  for (const held of ["leased", "running"] as const) {
    assert.deepEqual(transition(held, "expire"), { ok: true, to: "queued" });
    assert.deepEqual(transition(held, "retry"), { ok: true, to: "queued" });
    assert.deepEqual(transition(held, "exhaust"), { ok: true, to: "dead" });
    assert.deepEqual(transition(held, "fail"), { ok: true, to: "failed" });
    assert.deepEqual(transition(held, "cancel"), { ok: true, to: "cancelled" });
  }
});

test("a queued job can only be leased or cancelled", () => {
  const allowed = JOB_EVENTS.filter((event) => transition("queued", event).ok);
  assert.deepEqual(allowed, ["lease", "cancel"]);
  assert.deepEqual(transition("queued", "complete"), { ok: false, reason: "a queued job cannot complete" });
});

test("no event moves a terminal state, and exactly the four end states are terminal", () => {
  const terminal = JOB_STATES.filter(isTerminal);
  assert.deepEqual(terminal, ["succeeded", "failed", "cancelled", "dead"]);
  for (const state of terminal) {
    for (const event of JOB_EVENTS) assert.equal(transition(state, event).ok, false, `${state} --${event}`);
  }
});

test("every move lands on a known state and nothing ever moves to leased except a lease", () => {
  for (const state of JOB_STATES) {
    for (const [event, to] of Object.entries(JOB_TRANSITIONS[state])) {
      assert.ok(JOB_STATES.includes(to), `${state} --${event}--> ${to}`);
      if (to === "leased") assert.equal(event, "lease");
    }
  }
});
