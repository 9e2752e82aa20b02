// OpenAI's Batch object, made from the batch record and its line counts.
// Pure. A status not reached yet has its timestamp null.
import type { Batch } from "../../jobs/batches/batch.ts";
import type { BatchStatus } from "../../jobs/batches/batch-state.ts";
import type { LineCounts } from "../../jobs/batches/batch-store.ts";

export interface BatchObjectView {
  id: string;
  object: "batch";
  endpoint: string;
  errors: { object: "list"; data: { code: string; message: string; line: number | null; param: string | null }[] } | null;
  input_file_id: string;
  completion_window: "24h";
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const maybe = (ms: number | null) => (ms === null ? null : seconds(ms));

export function batchView(batch: Batch, counts: LineCounts): BatchObjectView {
  return {
    id: batch.id,
    object: "batch",
    endpoint: batch.endpoint,
    errors: batch.errors.length === 0 ? null : { object: "list", data: batch.errors },
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: seconds(batch.createdAtMs),
    in_progress_at: maybe(batch.inProgressAtMs),
    expires_at: seconds(batch.expiresAtMs),
    finalizing_at: maybe(batch.finalizingAtMs),
    completed_at: maybe(batch.completedAtMs),
    failed_at: maybe(batch.failedAtMs),
    expired_at: maybe(batch.expiredAtMs),
    cancelling_at: maybe(batch.cancellingAtMs),
    cancelled_at: maybe(batch.cancelledAtMs),
    request_counts: { total: batch.total, completed: counts.completed, failed: counts.failed },
    metadata: batch.metadata,
  };
}
