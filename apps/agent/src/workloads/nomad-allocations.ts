// What a job's allocations (Nomad's answer) mean to the nomad driver: pure
// functions, so the loops around them (nomad-driver.ts) only ask and wait.
//
// Only allocations created after the driver's registration count while it
// starts: a job ID registered before (a purged run whose allocations Nomad
// has not garbage-collected yet) keeps its old, complete allocations in the
// list, and they say nothing about this run.
import type { AllocationStub } from "./nomad-api.ts";

export type StartVerdict =
  | { state: "waiting"; last: string }
  | { state: "running"; allocationId: string }
  | { state: "failed"; message: string };

/** A client status an allocation does not leave on its own. */
const ENDED = new Set(["complete", "failed", "lost"]);
/** Client statuses of an allocation that still runs, or is about to. */
const ACTIVE = new Set(["pending", "running"]);

/** Where this run's allocations are, the registration having been at `registeredAt`. An ended one fails it, whatever the others do. */
export function startVerdict(allocations: readonly AllocationStub[], registeredAt: number): StartVerdict {
  const fresh = allocations.filter((a) => a.CreateIndex > registeredAt);
  const ended = fresh.find((a) => ENDED.has(a.ClientStatus));
  if (ended !== undefined) return { state: "failed", message: describeAllocation(ended) };
  const running = fresh.find((a) => a.ClientStatus === "running");
  if (running !== undefined) return { state: "running", allocationId: running.ID };
  const first = fresh[0];
  return { state: "waiting", last: first === undefined ? "no allocation yet" : describeAllocation(first) };
}

/** Whether the allocation provisioning saw running still runs. */
export function stillRunning(allocations: readonly AllocationStub[], allocationId: string): { ok: true } | { ok: false; message: string } {
  const allocation = allocations.find((a) => a.ID === allocationId);
  if (allocation === undefined) return { ok: false, message: `allocation ${short(allocationId)} is gone` };
  return allocation.ClientStatus === "running" ? { ok: true } : { ok: false, message: describeAllocation(allocation) };
}

/** Whether any allocation of the job still runs (or is about to): stopping waits until none does. */
export function anyActive(allocations: readonly AllocationStub[]): boolean {
  return allocations.some((a) => ACTIVE.has(a.ClientStatus));
}

/** "allocation 1a2b3c4d is failed: Failed tasks; task "web": Exit Code: 3": its status, and each task's last word. */
export function describeAllocation(allocation: AllocationStub): string {
  const parts = [`allocation ${short(allocation.ID)} is ${allocation.ClientStatus}${allocation.ClientDescription ? `: ${allocation.ClientDescription}` : ""}`];
  for (const [task, state] of Object.entries(allocation.TaskStates ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const last = state.Events?.findLast((event) => (event.DisplayMessage ?? "").length > 0);
    if (last?.DisplayMessage) parts.push(`task "${task}": ${last.DisplayMessage}`);
  }
  return parts.join("; ").slice(0, 900);
}

function short(id: string): string {
  return id.slice(0, 8);
}
