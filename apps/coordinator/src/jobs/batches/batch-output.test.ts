// The output and error lines, in OpenAI's format, for each way a line ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { newJob, jobSpecSchema, type Job } from "../job.ts";
import { placeLine, recordLine } from "./batch-output.ts";

const row = { line: 4, customId: "req-4", jobId: "job_abc", outcome: null };
function job(changes: Partial<Job>): Job {
  return { ...newJob("job_abc", jobSpecSchema.parse({ kind: "chat", input: {} }), 0), ...changes };
}

test("a succeeded line: status 200 with the /v1 answer as its body, error null", () => {
  const answer = { id: "chatcmpl-1", object: "chat.completion", choices: [] };
  const placed = placeLine("batch_x", row, job({ state: "succeeded", result: { response: answer, nodes: ["n1"] } }), "completed");
  assert.deepEqual(placed, {
    file: "output",
    record: { id: "batch_req_abc", custom_id: "req-4", response: { status_code: 200, request_id: "req_job_abc", body: answer }, error: null },
  });
  assert.deepEqual(JSON.parse(recordLine(placed.record)), placed.record);
  assert.ok(recordLine(placed.record).endsWith("}\n"));
});

test("failed, dead, cancelled and never-run lines go to the error file with a code and response null", () => {
  const error = { message: "model 'x' not found", retryable: false };
  const cases: [Job | null, "completed" | "cancelled" | "expired", string][] = [
    [job({ state: "failed", error }), "completed", "request_failed"],
    [job({ state: "dead", error }), "completed", "retries_exhausted"],
    [job({ state: "cancelled" }), "cancelled", "batch_cancelled"],
    [job({ state: "cancelled" }), "expired", "batch_expired"],
    [job({ state: "cancelled" }), "completed", "request_cancelled"],
    [null, "cancelled", "batch_cancelled"],
    [job({ state: "succeeded", result: null }), "completed", "internal_error"],
  ];
  for (const [j, ending, code] of cases) {
    const placed = placeLine("batch_x", row, j, ending);
    assert.equal(placed.file, "error", code);
    assert.equal(placed.record.response, null);
    assert.equal(placed.record.error?.code, code);
    assert.equal(placed.record.custom_id, "req-4");
  }
  assert.equal(placeLine("batch_x", row, job({ state: "failed", error }), "completed").record.error?.message, "model 'x' not found");
  assert.equal(placeLine("batch_x", { ...row, jobId: null }, null, "cancelled").record.id, "batch_req_x_4");
});
