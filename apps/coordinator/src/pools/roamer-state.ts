// The lifecycle of a roamer as the coordinator keeps it (issue 17,
// docs/adr/0040). Pure: time is an argument, nothing is sent; the controller
// around it turns each new state into a PUT or a DELETE to the agent.
//
//           assign                   accepted, or                   reported
//   IDLE ────────────────▶ ASSIGNED ── reported ──▶ PROVISIONING ── running ──▶ RUNNING
//   ▲  ▲                    │  │     provisioning        │                       ▲  │
//   │  └──── refused ───────┤  └──── reported running ───┼───────────────────────┘  │
//   │                       │ release,                   │ release,                 │ release,
//   │                       │ reported failed            │ reported failed          │ reported failed
//   │                       ▼                            ▼                          ▼
//   │                     ┌───────────────────────────────────────────────────────────┐
//   └─────────────────────┤                          CLEANUP                          │
//     reported stopped,   └───────────────────────────────────────────────────────────┘
//     or no assignment
//
//   lost   every state but IDLE ──▶ IDLE: the node is gone, and its lending with it.
//   adopt  IDLE ──▶ PROVISIONING | RUNNING | CLEANUP: the agent reports an assignment
//          made before the coordinator restarted; it is kept (or, if it failed or is
//          stopping, cleaned up) rather than left running unaccounted for.
//
// A report names its assignment by id. One that does not name the current
// lending (null, or another id) changes nothing while lent: the agent may have
// restarted, or built its heartbeat before the PUT arrived, and the
// controller re-sends its wish anyway.

import type { AssignmentReport, RoamerDuration, RoamerState } from "@flotilla/protocol";

export interface Lending {
  /** The assignment id sent to the agent (idempotency key of PUT /agent/v1/assignment). */
  id: string;
  pool: string;
  template: string;
  duration: RoamerDuration;
  by: "autoscaler" | "operator";
  /** "overflow" | "burst" | "backup" | "operator" | "adopted" — free text for status. */
  reason: string;
  lentAtMs: number;
}

export interface RoamerRecord {
  state: RoamerState;
  /** When it entered `state`. */
  sinceMs: number;
  /** The pool it is lent to; null exactly when state is IDLE. */
  lending: Lending | null;
  lastError: string | null;
}

export type RoamerEvent =
  | { type: "assign"; lending: Lending }
  | { type: "accepted" }
  | { type: "refused"; error: string }
  | { type: "reported"; report: AssignmentReport | null }
  /** `reason` is for the caller's log; the record does not keep it. */
  | { type: "release"; reason: string }
  | { type: "lost" };

export type Transition = { ok: true; record: RoamerRecord; changed: boolean } | { ok: false; reason: string };

/** What the diagram draws, for tests and readers. */
export const ROAMER_TRANSITIONS: Readonly<Record<RoamerState, readonly RoamerState[]>> = {
  IDLE: ["ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP"],
  ASSIGNED: ["PROVISIONING", "RUNNING", "CLEANUP", "IDLE"],
  PROVISIONING: ["RUNNING", "CLEANUP", "IDLE"],
  RUNNING: ["CLEANUP", "IDLE"],
  CLEANUP: ["IDLE"],
};

export function idleRoamer(nowMs: number): RoamerRecord {
  return { state: "IDLE", sinceMs: nowMs, lending: null, lastError: null };
}

export function nextRoamerState(record: RoamerRecord, event: RoamerEvent, nowMs: number): Transition {
  switch (event.type) {
    case "assign":
      if (record.state !== "IDLE") return refuse(record, "be assigned");
      // A new lending starts with a clean slate: lastError described the last one.
      return moveTo(record, "ASSIGNED", nowMs, event.lending, null);
    case "accepted":
      return onAccepted(record, nowMs);
    case "refused":
      if (record.state !== "ASSIGNED") return refuse(record, "have its assignment refused");
      return moveTo(record, "IDLE", nowMs, null, event.error);
    case "reported":
      return onReport(record, event.report, nowMs);
    case "release":
      if (record.state === "IDLE" || record.state === "CLEANUP") return refuse(record, "be released");
      return moveTo(record, "CLEANUP", nowMs, record.lending, record.lastError);
    case "lost":
      if (record.state === "IDLE") return unchanged(record);
      return moveTo(record, "IDLE", nowMs, null, `node lost while ${record.state}`);
    default:
      return assertNever(event);
  }
}

function onAccepted(record: RoamerRecord, nowMs: number): Transition {
  switch (record.state) {
    case "ASSIGNED":
      return moveTo(record, "PROVISIONING", nowMs, record.lending, record.lastError);
    case "PROVISIONING":
    case "RUNNING":
      // A re-sent PUT (idempotent by id) answered again: nothing new.
      return unchanged(record);
    case "IDLE":
    case "CLEANUP":
      return refuse(record, "accept an assignment");
    default:
      return assertNever(record.state);
  }
}

function onReport(record: RoamerRecord, report: AssignmentReport | null, nowMs: number): Transition {
  switch (record.state) {
    case "IDLE":
      return adopt(record, report, nowMs);
    case "ASSIGNED":
    case "PROVISIONING":
    case "RUNNING":
      if (report === null || record.lending === null || report.id !== record.lending.id) return unchanged(record);
      return whileLent(record, record.state, report, nowMs);
    case "CLEANUP":
      // Nothing left on the agent, or what is left has stopped: the roamer is free.
      if (report === null || report.state === "stopped") return moveTo(record, "IDLE", nowMs, null, record.lastError);
      return unchanged(record);
    default:
      return assertNever(record.state);
  }
}

/** A report of the current lending while it is lent. */
function whileLent(record: RoamerRecord, state: "ASSIGNED" | "PROVISIONING" | "RUNNING", report: AssignmentReport, nowMs: number): Transition {
  switch (report.state) {
    case "provisioning":
      return state === "ASSIGNED" ? moveTo(record, "PROVISIONING", nowMs, record.lending, record.lastError) : unchanged(record);
    case "running":
      return state === "RUNNING" ? unchanged(record) : moveTo(record, "RUNNING", nowMs, record.lending, record.lastError);
    case "failed": {
      const error = report.message ?? (state === "RUNNING" ? "the workload failed" : "provisioning failed");
      // The lending stays: the controller still has to tell the agent to clean up.
      return moveTo(record, "CLEANUP", nowMs, record.lending, error);
    }
    case "stopping":
    case "stopped":
      // Not asked for: the controller re-sends its wish and the agent answers that.
      return unchanged(record);
    default:
      return assertNever(report.state);
  }
}

/** An IDLE roamer whose agent still holds an assignment (from before a coordinator restart). */
function adopt(record: RoamerRecord, report: AssignmentReport | null, nowMs: number): Transition {
  if (report === null) return unchanged(record);
  const lending: Lending = {
    id: report.id,
    pool: report.pool,
    template: report.template,
    duration: "until-idle",
    by: "autoscaler",
    reason: "adopted",
    lentAtMs: nowMs,
  };
  switch (report.state) {
    case "provisioning":
      return moveTo(record, "PROVISIONING", nowMs, lending, null);
    case "running":
      return moveTo(record, "RUNNING", nowMs, lending, null);
    case "failed":
      // Kept as CLEANUP so the controller sends the agent a release.
      return moveTo(record, "CLEANUP", nowMs, lending, report.message ?? "the workload failed");
    case "stopping":
      return moveTo(record, "CLEANUP", nowMs, lending, null);
    case "stopped":
      return unchanged(record);
    default:
      return assertNever(report.state);
  }
}

function moveTo(record: RoamerRecord, state: RoamerState, nowMs: number, lending: Lending | null, lastError: string | null): Transition {
  const changed = state !== record.state || lending !== record.lending;
  // sinceMs dates the state, so it moves only when the state does.
  const sinceMs = state === record.state ? record.sinceMs : nowMs;
  return { ok: true, record: { state, sinceMs, lending, lastError }, changed };
}

function unchanged(record: RoamerRecord): Transition {
  return { ok: true, record, changed: false };
}

function refuse(record: RoamerRecord, what: string): Transition {
  return { ok: false, reason: `a ${record.state} roamer cannot ${what}` };
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
