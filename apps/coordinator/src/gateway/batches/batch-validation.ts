// A batch's input file checked with the same schemas as the direct /v1
// requests (validateJobInput), so a line that would be a 400 there is a 400
// at POST /v1/batches, naming its line: `line 3: body.messages: ...`.
import type { Readable } from "node:stream";
import { readBatchLines, validateBatchInput, type BatchEndpoint, type ValidatedInput } from "../../jobs/batches/batch-input.ts";
import { validateJobInput } from "../jobs/job-inputs.ts";

export function validateBatchFile(source: Readable, endpoint: BatchEndpoint, maxLines?: number): Promise<ValidatedInput> {
  return validateBatchInput(readBatchLines(source), {
    endpoint,
    validateBody: (kind, body) => void validateJobInput(kind, body, "body"),
    ...(maxLines === undefined ? {} : { maxLines }),
  });
}
