// An OpenAI batch as the coordinator keeps it (docs/adr/0037): the record in
// files.db, whose status moves only as batch-state.ts allows. The wire shape
// (OpenAI's Batch object) is made from it in gateway/batches.
import type { BatchEndpoint } from "./batch-input.ts";
import { batchTransition, STATUS_TIMESTAMP, type BatchEvent, type BatchStatus } from "./batch-state.ts";

/** As OpenAI's: only 24 hours. */
export const COMPLETION_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface BatchFailure {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

export interface Batch {
  id: string;
  owner: string;
  endpoint: BatchEndpoint;
  inputFileId: string;
  completionWindow: "24h";
  metadata: Record<string, string> | null;
  status: BatchStatus;
  /** Request lines in the input file. */
  total: number;
  createdAtMs: number;
  /** When the completion window ends: unfinished requests are cancelled and the batch is `expired`. */
  expiresAtMs: number;
  inProgressAtMs: number | null;
  finalizingAtMs: number | null;
  completedAtMs: number | null;
  failedAtMs: number | null;
  cancellingAtMs: number | null;
  cancelledAtMs: number | null;
  expiredAtMs: number | null;
  outputFileId: string | null;
  errorFileId: string | null;
  /** Why the batch itself failed (not its requests: those are in the error file). */
  errors: BatchFailure[];
}

export interface NewBatch {
  id: string;
  owner: string;
  endpoint: BatchEndpoint;
  inputFileId: string;
  metadata: Record<string, string> | null;
  total: number;
}

export function newBatch(spec: NewBatch, nowMs: number): Batch {
  return {
    ...spec,
    completionWindow: "24h",
    status: "validating",
    createdAtMs: nowMs,
    expiresAtMs: nowMs + COMPLETION_WINDOW_MS,
    inProgressAtMs: null,
    finalizingAtMs: null,
    completedAtMs: null,
    failedAtMs: null,
    cancellingAtMs: null,
    cancelledAtMs: null,
    expiredAtMs: null,
    outputFileId: null,
    errorFileId: null,
    errors: [],
  };
}

export type AppliedBatch = { ok: true; batch: Batch } | { ok: false; reason: string };

/** The batch after `event` at `nowMs`, with its status's timestamp set and `changes` applied; or why it may not. */
export function applyBatchEvent(batch: Batch, event: BatchEvent, nowMs: number, changes: Partial<Pick<Batch, "outputFileId" | "errorFileId" | "errors">> = {}): AppliedBatch {
  const move = batchTransition(batch.status, event);
  if (!move.ok) return move;
  return { ok: true, batch: { ...batch, ...changes, status: move.to, [STATUS_TIMESTAMP[move.to]]: nowMs } };
}
