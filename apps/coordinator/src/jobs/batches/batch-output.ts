// A batch's output and error files, in OpenAI's line format: one JSON object
// a line, `{"id", "custom_id", "response": {"status_code", "request_id",
// "body"}, "error"}`, in the order of the input file's lines. A request that
// succeeded goes to the output file with its /v1 answer as the body; every
// other one goes to the error file with the reason. Pure: the service reads
// the lines and jobs and hands them here (docs/adr/0037).
import type { Job } from "../job.ts";
import type { BatchLineRow } from "./batch-store.ts";

export interface BatchOutputRecord {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/** How the batch ends: what a request that never finished is told. */
export type BatchEnding = "completed" | "cancelled" | "expired";

export interface PlacedRecord {
  file: "output" | "error";
  record: BatchOutputRecord;
}

export function placeLine(batchId: string, row: BatchLineRow, job: Job | null, ending: BatchEnding): PlacedRecord {
  const id = `batch_req_${job === null ? `${batchId.replace(/^batch_/, "")}_${row.line}` : job.id.replace(/^job_/, "")}`;
  const error = (code: string, message: string): PlacedRecord => ({ file: "error", record: { id, custom_id: row.customId, response: null, error: { code, message } } });
  if (job !== null && job.state === "succeeded") {
    const body = responseOf(job.result);
    if (body === undefined) return error("internal_error", "the request's job succeeded but kept no answer");
    return { file: "output", record: { id, custom_id: row.customId, response: { status_code: 200, request_id: `req_${job.id}`, body }, error: null } };
  }
  if (job !== null && job.state === "failed") return error("request_failed", job.error?.message ?? "the request failed");
  if (job !== null && job.state === "dead") return error("retries_exhausted", `the request failed on its last attempt: ${job.error?.message ?? "unknown error"}`);
  if (ending === "expired") return error("batch_expired", "This request could not be executed before the completion window expired.");
  if (ending === "cancelled") return error("batch_cancelled", "This request was not executed because the batch was cancelled.");
  return error("request_cancelled", "This request's job was cancelled.");
}

/** The TextJobResult's response (jobs/text-job-result.ts); undefined when there is none. */
function responseOf(result: unknown): unknown {
  if (typeof result !== "object" || result === null || !("response" in result)) return undefined;
  return result.response;
}

/** One record as a line of its file. */
export function recordLine(record: BatchOutputRecord): string {
  return `${JSON.stringify(record)}\n`;
}
