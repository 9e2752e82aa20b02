import { test } from "node:test";
import assert from "node:assert/strict";
import { ROAMER_STATES, WORKLOAD_STATES, type AssignmentReport, type RoamerState } from "@flotilla/protocol";
import { ROAMER_TRANSITIONS, idleRoamer, nextRoamerState, type Lending, type RoamerEvent, type RoamerRecord, type Transition } from "./roamer-state.ts";

const T0 = 1_000_000;
const LATER = T0 + 5_000;

const lending: Lending = {
  id: "a1",
  pool: "chat",
  template: "llama-8b",
  duration: "until-idle",
  by: "operator",
  reason: "operator",
  lentAtMs: T0,
};

function report(state: AssignmentReport["state"], extra: Partial<AssignmentReport> = {}): AssignmentReport {
  return { id: lending.id, template: lending.template, pool: lending.pool, state, stateAgeMs: 10, ...extra };
}

function recordIn(state: RoamerState, lastError: string | null = null): RoamerRecord {
  return { state, sinceMs: T0, lending: state === "IDLE" ? null : lending, lastError };
}

function moved(result: Transition): RoamerRecord {
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.record;
}

function assertUnchanged(before: RoamerRecord, result: Transition): void {
  assert.ok(result.ok, result.ok ? "" : result.reason);
  assert.equal(result.changed, false);
  assert.deepEqual(result.record, before);
}

function assertRefused(result: Transition): void {
  assert.equal(result.ok, false);
}

// Every event kind, with reports in each workload state, of this lending and of another.
const events: readonly RoamerEvent[] = [
  { type: "assign", lending },
  { type: "accepted" },
  { type: "refused", error: "template not listed" },
  { type: "reported", report: null },
  ...WORKLOAD_STATES.flatMap((state): RoamerEvent[] => [
    { type: "reported", report: report(state) },
    { type: "reported", report: report(state, { id: "other" }) },
  ]),
  { type: "release", reason: "idle" },
  { type: "lost" },
];

test("every (state, event) pair is refused, unchanged, or a move the table lists; and every listed move happens", () => {
  const seen = new Set<string>();
  for (const state of ROAMER_STATES) {
    for (const event of events) {
      const before = recordIn(state);
      const result = nextRoamerState(before, event, LATER);
      if (!result.ok) continue;
      const after = result.record;
      const label = `${state} + ${JSON.stringify(event)}`;
      if (!result.changed) {
        assert.equal(after.state, state, label);
        assert.equal(after.sinceMs, T0, label);
        continue;
      }
      if (after.state !== state) {
        assert.ok(ROAMER_TRANSITIONS[state].includes(after.state), `${label} → ${after.state} is not in the table`);
        assert.equal(after.sinceMs, LATER, label);
        seen.add(`${state}→${after.state}`);
      }
      assert.equal(after.lending === null, after.state === "IDLE", `${label}: lending is null exactly when IDLE`);
    }
  }
  const listed = ROAMER_STATES.flatMap((from) => ROAMER_TRANSITIONS[from].map((to) => `${from}→${to}`));
  assert.deepEqual([...seen].sort(), listed.sort());
});

test("the table names only known states, and no state moves to itself", () => {
  for (const state of ROAMER_STATES) {
    for (const to of ROAMER_TRANSITIONS[state]) {
      assert.ok(ROAMER_STATES.includes(to));
      assert.notEqual(to, state);
    }
  }
});

test("the happy path: IDLE → ASSIGNED → PROVISIONING → RUNNING → CLEANUP → IDLE", () => {
  let record = idleRoamer(T0);
  assert.deepEqual(record, { state: "IDLE", sinceMs: T0, lending: null, lastError: null });
  record = moved(nextRoamerState(record, { type: "assign", lending }, T0 + 1));
  assert.deepEqual(record, { state: "ASSIGNED", sinceMs: T0 + 1, lending, lastError: null });
  record = moved(nextRoamerState(record, { type: "accepted" }, T0 + 2));
  assert.equal(record.state, "PROVISIONING");
  record = moved(nextRoamerState(record, { type: "reported", report: report("running") }, T0 + 3));
  assert.equal(record.state, "RUNNING");
  record = moved(nextRoamerState(record, { type: "release", reason: "idle" }, T0 + 4));
  assert.deepEqual(record, { state: "CLEANUP", sinceMs: T0 + 4, lending, lastError: null });
  record = moved(nextRoamerState(record, { type: "reported", report: report("stopped") }, T0 + 5));
  assert.deepEqual(record, { state: "IDLE", sinceMs: T0 + 5, lending: null, lastError: null });
});

test("assign: only an IDLE roamer is assigned, and the last error is cleared", () => {
  const result = nextRoamerState(recordIn("IDLE", "old failure"), { type: "assign", lending }, LATER);
  assert.deepEqual(result, { ok: true, changed: true, record: { state: "ASSIGNED", sinceMs: LATER, lending, lastError: null } });
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP"] as const) {
    assertRefused(nextRoamerState(recordIn(state), { type: "assign", lending }, LATER));
  }
});

test("accepted: ASSIGNED → PROVISIONING; PROVISIONING and RUNNING stay; IDLE and CLEANUP refuse", () => {
  assert.equal(moved(nextRoamerState(recordIn("ASSIGNED"), { type: "accepted" }, LATER)).state, "PROVISIONING");
  for (const state of ["PROVISIONING", "RUNNING"] as const) {
    assertUnchanged(recordIn(state), nextRoamerState(recordIn(state), { type: "accepted" }, LATER));
  }
  assertRefused(nextRoamerState(recordIn("IDLE"), { type: "accepted" }, LATER));
  assertRefused(nextRoamerState(recordIn("CLEANUP"), { type: "accepted" }, LATER));
});

test("refused: ASSIGNED → IDLE with the agent's error and no lending; other states refuse", () => {
  const result = nextRoamerState(recordIn("ASSIGNED"), { type: "refused", error: "template not listed" }, LATER);
  assert.deepEqual(result, { ok: true, changed: true, record: { state: "IDLE", sinceMs: LATER, lending: null, lastError: "template not listed" } });
  for (const state of ["IDLE", "PROVISIONING", "RUNNING", "CLEANUP"] as const) {
    assertRefused(nextRoamerState(recordIn(state), { type: "refused", error: "x" }, LATER));
  }
});

test("release: a lent roamer goes to CLEANUP keeping its lending; IDLE and CLEANUP refuse", () => {
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING"] as const) {
    const after = moved(nextRoamerState(recordIn(state), { type: "release", reason: "operator" }, LATER));
    assert.deepEqual(after, { state: "CLEANUP", sinceMs: LATER, lending, lastError: null });
  }
  assertRefused(nextRoamerState(recordIn("IDLE"), { type: "release", reason: "x" }, LATER));
  assertRefused(nextRoamerState(recordIn("CLEANUP"), { type: "release", reason: "x" }, LATER));
});

test("lost: any state but IDLE → IDLE, lending forgotten, the error names the state it was in", () => {
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP"] as const) {
    const result = nextRoamerState(recordIn(state), { type: "lost" }, LATER);
    assert.deepEqual(result, { ok: true, changed: true, record: { state: "IDLE", sinceMs: LATER, lending: null, lastError: `node lost while ${state}` } });
  }
  assertUnchanged(recordIn("IDLE"), nextRoamerState(recordIn("IDLE"), { type: "lost" }, LATER));
});

test("reported while lent: no report, or one of another assignment, changes nothing", () => {
  for (const state of ["ASSIGNED", "PROVISIONING", "RUNNING"] as const) {
    assertUnchanged(recordIn(state), nextRoamerState(recordIn(state), { type: "reported", report: null }, LATER));
    for (const workload of WORKLOAD_STATES) {
      const other = report(workload, { id: "other" });
      assertUnchanged(recordIn(state), nextRoamerState(recordIn(state), { type: "reported", report: other }, LATER));
    }
  }
});

test("reported in ASSIGNED: provisioning → PROVISIONING, running → RUNNING, failed → CLEANUP", () => {
  const from = recordIn("ASSIGNED");
  assert.equal(moved(nextRoamerState(from, { type: "reported", report: report("provisioning") }, LATER)).state, "PROVISIONING");
  assert.equal(moved(nextRoamerState(from, { type: "reported", report: report("running") }, LATER)).state, "RUNNING");
  const failed = moved(nextRoamerState(from, { type: "reported", report: report("failed", { message: "out of memory" }) }, LATER));
  assert.deepEqual(failed, { state: "CLEANUP", sinceMs: LATER, lending, lastError: "out of memory" });
  const silent = moved(nextRoamerState(from, { type: "reported", report: report("failed") }, LATER));
  assert.equal(silent.lastError, "provisioning failed");
});

test("reported in PROVISIONING: running → RUNNING, failed → CLEANUP, provisioning stays", () => {
  const from = recordIn("PROVISIONING");
  assert.equal(moved(nextRoamerState(from, { type: "reported", report: report("running") }, LATER)).state, "RUNNING");
  const failed = moved(nextRoamerState(from, { type: "reported", report: report("failed") }, LATER));
  assert.deepEqual(failed, { state: "CLEANUP", sinceMs: LATER, lending, lastError: "provisioning failed" });
  assertUnchanged(from, nextRoamerState(from, { type: "reported", report: report("provisioning", { progress: 0.5 }) }, LATER));
});

test("reported in RUNNING: failed → CLEANUP with the workload's error; the rest change nothing", () => {
  const from = recordIn("RUNNING");
  const failed = moved(nextRoamerState(from, { type: "reported", report: report("failed") }, LATER));
  assert.deepEqual(failed, { state: "CLEANUP", sinceMs: LATER, lending, lastError: "the workload failed" });
  const said = moved(nextRoamerState(from, { type: "reported", report: report("failed", { message: "segfault" }) }, LATER));
  assert.equal(said.lastError, "segfault");
  for (const workload of ["provisioning", "running", "stopping", "stopped"] as const) {
    assertUnchanged(from, nextRoamerState(from, { type: "reported", report: report(workload) }, LATER));
  }
});

test("reported in CLEANUP: no assignment, or a stopped one of any id, frees the roamer and keeps the error", () => {
  const from = recordIn("CLEANUP", "the workload failed");
  const freed = { state: "IDLE", sinceMs: LATER, lending: null, lastError: "the workload failed" };
  assert.deepEqual(moved(nextRoamerState(from, { type: "reported", report: null }, LATER)), freed);
  assert.deepEqual(moved(nextRoamerState(from, { type: "reported", report: report("stopped") }, LATER)), freed);
  assert.deepEqual(moved(nextRoamerState(from, { type: "reported", report: report("stopped", { id: "other" }) }, LATER)), freed);
  for (const workload of ["provisioning", "running", "failed", "stopping"] as const) {
    assertUnchanged(from, nextRoamerState(from, { type: "reported", report: report(workload) }, LATER));
  }
});

test("reported in IDLE: a provisioning or running assignment is adopted, until idle, by the autoscaler", () => {
  const adopted: Lending = { ...lending, id: "old", by: "autoscaler", reason: "adopted", lentAtMs: LATER };
  const provisioning = nextRoamerState(recordIn("IDLE"), { type: "reported", report: report("provisioning", { id: "old" }) }, LATER);
  assert.deepEqual(provisioning, { ok: true, changed: true, record: { state: "PROVISIONING", sinceMs: LATER, lending: adopted, lastError: null } });
  const running = moved(nextRoamerState(recordIn("IDLE"), { type: "reported", report: report("running", { id: "old" }) }, LATER));
  assert.deepEqual(running, { state: "RUNNING", sinceMs: LATER, lending: adopted, lastError: null });
});

test("reported in IDLE: a failed or stopping assignment goes to CLEANUP, so the agent is told to release it", () => {
  const failed = moved(nextRoamerState(recordIn("IDLE"), { type: "reported", report: report("failed", { message: "disk full" }) }, LATER));
  assert.equal(failed.state, "CLEANUP");
  assert.equal(failed.lending?.id, lending.id);
  assert.equal(failed.lending?.reason, "adopted");
  assert.equal(failed.lastError, "disk full");
  const stopping = moved(nextRoamerState(recordIn("IDLE"), { type: "reported", report: report("stopping") }, LATER));
  assert.equal(stopping.state, "CLEANUP");
  assert.equal(stopping.lending?.pool, lending.pool);
});

test("reported in IDLE: no assignment, or a stopped one, changes nothing", () => {
  assertUnchanged(recordIn("IDLE"), nextRoamerState(recordIn("IDLE"), { type: "reported", report: null }, LATER));
  assertUnchanged(recordIn("IDLE"), nextRoamerState(recordIn("IDLE"), { type: "reported", report: report("stopped") }, LATER));
});

test("sinceMs moves only with the state, and an unchanged answer is the same record", () => {
  const from = recordIn("RUNNING");
  const same = nextRoamerState(from, { type: "reported", report: report("running") }, LATER);
  assert.ok(same.ok);
  assert.equal(same.record, from);
  assert.equal(same.record.sinceMs, T0);
});
