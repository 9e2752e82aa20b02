// The lifecycle of a job, as a table. Pure: no clock, no I/O; the queues
// ask it before every change, so both implementations refuse the same moves.
//
//              lease              start
//   queued ─────────────▶ leased ───────▶ running
//     ▲  │                  │ │             │ │
//     │  │ cancel           │ │ complete    │ │ complete ──▶ succeeded
//     │  ▼                  │ │ fail        │ │ fail ──────▶ failed     (not retryable)
//     │ cancelled ◀─────────┘ │ cancel      │ │ cancel ────▶ cancelled
//     │                       │             │ │ exhaust ───▶ dead       (last attempt failed or expired)
//     └───────────────────────┴─────────────┘ │
//         expire (lease passed its deadline)   │
//         retry  (retryable failure, attempts left, after a backoff)
//
// succeeded, failed, cancelled and dead are terminal: no event leaves them.
// A worker may settle a job it leased without starting it (complete/fail
// from `leased`): a job that finishes at once need not report a start.

import { JOB_STATES, type JobState } from "@flotilla/protocol";

// The names are the protocol's (the API shows them); the moves are here.
export { JOB_STATES, type JobState };

export const JOB_EVENTS = ["lease", "start", "complete", "fail", "retry", "expire", "exhaust", "cancel"] as const;
export type JobEvent = (typeof JOB_EVENTS)[number];

type Moves = Partial<Record<JobEvent, JobState>>;

const settle: Moves = { complete: "succeeded", fail: "failed", retry: "queued", expire: "queued", exhaust: "dead", cancel: "cancelled" };

/** Every state, with where each allowed event takes it; an event not listed is refused. */
export const JOB_TRANSITIONS: Readonly<Record<JobState, Moves>> = {
  queued: { lease: "leased", cancel: "cancelled" },
  leased: { start: "running", ...settle },
  running: settle,
  succeeded: {},
  failed: {},
  cancelled: {},
  dead: {},
};

export function isTerminal(state: JobState): boolean {
  return Object.keys(JOB_TRANSITIONS[state]).length === 0;
}

/** Holds a lease: a worker is on it. */
export function isLeased(state: JobState): boolean {
  return state === "leased" || state === "running";
}

export type Transition = { ok: true; to: JobState } | { ok: false; reason: string };

export function transition(state: JobState, event: JobEvent): Transition {
  const to = JOB_TRANSITIONS[state][event];
  if (to === undefined) return { ok: false, reason: `a ${state} job cannot ${event}` };
  return { ok: true, to };
}
