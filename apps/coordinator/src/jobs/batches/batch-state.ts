// The lifecycle of an OpenAI batch (docs/adr/0037), as a table. Pure: the
// batch service asks it before every change, and refuses what it refuses.
//
//               enqueued                settle                 finish
//   validating ─────────▶ in_progress ─────────▶ finalizing ─────────▶ completed
//     │  │  │               │     │
//     │  │  │ cancel        │     │ cancel
//     │  │  └───────────────┼─────┴──────▶ cancelling ──finish──▶ cancelled
//     │  │ expire           │ expire         (children cancelled; partial output written)
//     │  └──────────────────┴──────▶ expired  (24 h passed; partial output written)
//     │ fail
//     └──────▶ failed   (its lines could not be queued: the input file went away)
//
// validating: the lines are valid (checked at create) and are being queued.
// in_progress: every line is a job. finalizing: every job is terminal; the
// output and error files are being written. completed, failed, cancelled and
// expired are terminal: no event leaves them.

export const BATCH_STATUSES = ["validating", "in_progress", "finalizing", "completed", "failed", "cancelling", "cancelled", "expired"] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const BATCH_EVENTS = ["enqueued", "settle", "finish", "cancel", "expire", "fail"] as const;
export type BatchEvent = (typeof BATCH_EVENTS)[number];

type Moves = Partial<Record<BatchEvent, BatchStatus>>;

export const BATCH_TRANSITIONS: Readonly<Record<BatchStatus, Moves>> = {
  validating: { enqueued: "in_progress", cancel: "cancelling", expire: "expired", fail: "failed" },
  in_progress: { settle: "finalizing", cancel: "cancelling", expire: "expired" },
  finalizing: { finish: "completed" },
  cancelling: { finish: "cancelled" },
  completed: {},
  failed: {},
  cancelled: {},
  expired: {},
};

export function isBatchTerminal(status: BatchStatus): boolean {
  return Object.keys(BATCH_TRANSITIONS[status]).length === 0;
}

export type BatchTransition = { ok: true; to: BatchStatus } | { ok: false; reason: string };

export function batchTransition(status: BatchStatus, event: BatchEvent): BatchTransition {
  const to = BATCH_TRANSITIONS[status][event];
  if (to === undefined) return { ok: false, reason: `a ${status} batch cannot ${event}` };
  return { ok: true, to };
}

/** The field of the batch that records when it reached each status (OpenAI's `*_at`). */
export const STATUS_TIMESTAMP: Readonly<Record<BatchStatus, "createdAtMs" | "inProgressAtMs" | "finalizingAtMs" | "completedAtMs" | "failedAtMs" | "cancellingAtMs" | "cancelledAtMs" | "expiredAtMs">> = {
  validating: "createdAtMs",
  in_progress: "inProgressAtMs",
  finalizing: "finalizingAtMs",
  completed: "completedAtMs",
  failed: "failedAtMs",
  cancelling: "cancellingAtMs",
  cancelled: "cancelledAtMs",
  expired: "expiredAtMs",
};
