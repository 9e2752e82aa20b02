// A job's input, checked once, when it is submitted (POST /v1/jobs, a batch
// line, a split run): text kinds take their /v1 body as it is, the others
// their schema in the protocol (job-inputs.ts). A bad input is a 400 naming
// the field under `input.`, and nothing is queued.
import {
  chatCompletionRequest,
  completionRequest,
  embeddingCreateRequest,
  FlotillaError,
  MEDIA_AND_SPLIT_INPUTS,
  type JobKind,
} from "@flotilla/protocol";
import type { z } from "zod";
import { parseBody } from "../validate.ts";

const TEXT_INPUTS = {
  chat: chatCompletionRequest,
  completion: completionRequest,
  embedding: embeddingCreateRequest,
} as const satisfies Partial<Record<JobKind, z.ZodType>>;

const SCHEMAS: Record<JobKind, z.ZodType> = { ...TEXT_INPUTS, ...MEDIA_AND_SPLIT_INPUTS };

/**
 * The input, parsed (defaults applied) when it is valid for the kind.
 * `field` names the input in messages: `input` for POST /v1/jobs, `body` for a batch line.
 */
export function validateJobInput(kind: JobKind, input: unknown, field = "input"): unknown {
  let parsed: unknown;
  try {
    parsed = parseBody(SCHEMAS[kind], input);
  } catch (err) {
    if (!(err instanceof FlotillaError)) throw err;
    const param = err.param === null ? field : `${field}.${err.param}`;
    const message = err.param === null ? err.message.replace(/^(body|the request body)/, field) : `${field}.${err.message}`;
    throw new FlotillaError("invalid_request", message, { param });
  }
  // A job's answer is stored, not streamed: say so rather than drop the flag.
  if ((kind === "chat" || kind === "completion") && typeof input === "object" && input !== null && "stream" in input && input.stream === true) {
    throw new FlotillaError("invalid_request", `${field}.stream: a job's answer is stored, not streamed; leave stream out (follow /v1/jobs/{id}/events for progress)`, { param: `${field}.stream` });
  }
  return parsed;
}
