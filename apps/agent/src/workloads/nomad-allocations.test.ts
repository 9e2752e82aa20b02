// What a job's allocations mean: the pure verdicts the nomad driver's loops act on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { anyActive, describeAllocation, startVerdict, stillRunning } from "./nomad-allocations.ts";
import type { AllocationStub } from "./nomad-api.ts";

const alloc = (ID: string, ClientStatus: string, CreateIndex: number, extra: Partial<AllocationStub> = {}): AllocationStub => ({ ID, ClientStatus, CreateIndex, ...extra });

test("while it starts only allocations created after the registration count", () => {
  const old = alloc("0ld00000-0000", "complete", 5);
  assert.deepEqual(startVerdict([old], 10), { state: "waiting", last: "no allocation yet" });
  assert.deepEqual(startVerdict([old, alloc("aaaaaaaa-1111", "pending", 11)], 10), { state: "waiting", last: "allocation aaaaaaaa is pending" });
  assert.deepEqual(startVerdict([old, alloc("aaaaaaaa-1111", "running", 11)], 10), { state: "running", allocationId: "aaaaaaaa-1111" });
});

test("an ended allocation of this run fails it, even beside a running one", () => {
  for (const status of ["failed", "lost", "complete"]) {
    const verdict = startVerdict([alloc("bbbbbbbb-1", "running", 11), alloc("cccccccc-2", status, 12)], 10);
    assert.deepEqual(verdict, { state: "failed", message: `allocation cccccccc is ${status}` });
  }
});

test("an allocation is described by its status and each task's last message", () => {
  const failed = alloc("dddddddd-1", "failed", 1, {
    ClientDescription: "Failed tasks",
    TaskStates: {
      web: { State: "dead", Failed: true, Events: [{ Type: "Started", DisplayMessage: "Task started by client" }, { Type: "Terminated", DisplayMessage: "Exit Code: 3" }] },
      sidecar: { State: "dead", Failed: false, Events: null },
    },
  });
  assert.equal(describeAllocation(failed), 'allocation dddddddd is failed: Failed tasks; task "web": Exit Code: 3');
});

test("serving, it runs while its own allocation does", () => {
  assert.deepEqual(stillRunning([alloc("eeeeeeee-1", "running", 1)], "eeeeeeee-1"), { ok: true });
  assert.deepEqual(stillRunning([alloc("eeeeeeee-1", "lost", 1)], "eeeeeeee-1"), { ok: false, message: "allocation eeeeeeee is lost" });
  assert.deepEqual(stillRunning([], "eeeeeeee-1"), { ok: false, message: "allocation eeeeeeee is gone" });
});

test("stopping waits while an allocation is pending or running", () => {
  assert.equal(anyActive([alloc("1", "complete", 1), alloc("2", "pending", 2)]), true);
  assert.equal(anyActive([alloc("1", "complete", 1), alloc("2", "running", 2)]), true);
  assert.equal(anyActive([alloc("1", "complete", 1), alloc("2", "failed", 2)]), false);
});
