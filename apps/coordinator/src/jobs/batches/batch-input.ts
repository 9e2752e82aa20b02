// A batch's input file (OpenAI's JSONL request format): one request a line,
// `{"custom_id", "method": "POST", "url", "body"}`. Checked whole when the
// batch is created, so a bad line is a 400 naming its line number and nothing
// is queued; read again, line by line, when the lines are queued. Pure but
// for the reading: the body's own check (the /v1 schemas) is passed in, since
// it lives in gateway/ (docs/adr/0037).
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { z } from "zod";
import { FlotillaError, formatParam, type JobKind } from "@flotilla/protocol";
import { MAX_INPUT_JSON_BYTES } from "../job.ts";

/** The endpoints a batch may call, and the job kind each line becomes. */
export const BATCH_ENDPOINTS = {
  "/v1/chat/completions": "chat",
  "/v1/completions": "completion",
  "/v1/embeddings": "embedding",
} as const satisfies Record<string, JobKind>;
export type BatchEndpoint = keyof typeof BATCH_ENDPOINTS;

export function isBatchEndpoint(url: string): url is BatchEndpoint {
  return Object.hasOwn(BATCH_ENDPOINTS, url);
}

/** As OpenAI: 50,000 requests a batch. */
export const MAX_BATCH_LINES = 50_000;

/** Throws a FlotillaError naming the field (`body.messages`) when the body is not a valid request for its kind. */
export type ValidateBody = (kind: JobKind, body: unknown) => void;

export interface BatchRequestLine {
  /** 1-based, counting every line of the file (blank ones too), as an editor does. */
  line: number;
  customId: string;
  kind: JobKind;
  url: BatchEndpoint;
  body: unknown;
}

export interface RawLine {
  line: number;
  text: string;
}

const lineShape = z.strictObject({
  custom_id: z.string().min(1).max(512),
  method: z.literal("POST"),
  url: z.string().max(200),
  body: z.record(z.string(), z.unknown()),
});

/** One line, checked; throws invalid_request "line N: ..." naming what is wrong. */
export function parseBatchLine(raw: RawLine, endpoint: BatchEndpoint, validateBody: ValidateBody): BatchRequestLine {
  const at = `line ${raw.line}`;
  let value: unknown;
  try {
    value = JSON.parse(raw.text);
  } catch {
    throw new FlotillaError("invalid_request", `${at}: not valid JSON`, { param: at });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FlotillaError("invalid_request", `${at}: a line must be a JSON object {custom_id, method, url, body}`, { param: at });
  }
  const parsed = lineShape.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue === undefined ? "" : formatParam(issue.path);
    throw new FlotillaError("invalid_request", `${at}: ${param === "" ? "" : `${param}: `}${issue?.message ?? "not a batch request"}`, {
      param: param === "" ? at : param,
    });
  }
  const { custom_id: customId, url, body } = parsed.data;
  if (!isBatchEndpoint(url)) {
    throw new FlotillaError("invalid_request", `${at}: url: ${JSON.stringify(url)} is not an endpoint batches call (${Object.keys(BATCH_ENDPOINTS).join(", ")})`, { param: "url" });
  }
  if (url !== endpoint) {
    throw new FlotillaError("invalid_request", `${at}: url: ${url} is not the batch's endpoint ${endpoint}`, { param: "url" });
  }
  const kind = BATCH_ENDPOINTS[url];
  // Each line becomes a job, whose input has the queue's bound.
  if (Buffer.byteLength(JSON.stringify(body)) > MAX_INPUT_JSON_BYTES) {
    throw new FlotillaError("invalid_request", `${at}: body: over ${MAX_INPUT_JSON_BYTES} bytes of JSON`, { param: "body" });
  }
  try {
    validateBody(kind, body);
  } catch (err) {
    if (!(err instanceof FlotillaError)) throw err;
    throw new FlotillaError("invalid_request", `${at}: ${err.message}`, { param: err.param ?? "body" });
  }
  return { line: raw.line, customId, kind, url, body };
}

/** Every request line of a file, blank lines skipped but counted. */
export async function* readBatchLines(source: Readable): AsyncGenerator<RawLine> {
  const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === "") continue;
      yield { line, text };
    }
  } finally {
    lines.close();
    source.destroy();
  }
}

export interface ValidatedInput {
  /** Each request's line number and custom_id, in file order. */
  lines: { line: number; customId: string }[];
}

/**
 * Checks a whole input file: every line (parseBatchLine), custom_ids unique,
 * at least one request and at most `maxLines`. The first problem throws.
 */
export async function validateBatchInput(
  lines: AsyncIterable<RawLine> | Iterable<RawLine>,
  options: { endpoint: BatchEndpoint; validateBody: ValidateBody; maxLines?: number },
): Promise<ValidatedInput> {
  const maxLines = options.maxLines ?? MAX_BATCH_LINES;
  const seen = new Map<string, number>();
  const out: ValidatedInput["lines"] = [];
  for await (const raw of lines) {
    if (out.length >= maxLines) {
      throw new FlotillaError("invalid_request", `line ${raw.line}: a batch holds at most ${maxLines} requests`, { param: "input_file_id" });
    }
    const request = parseBatchLine(raw, options.endpoint, options.validateBody);
    const earlier = seen.get(request.customId);
    if (earlier !== undefined) {
      throw new FlotillaError("invalid_request", `line ${raw.line}: custom_id ${JSON.stringify(request.customId)} is already used on line ${earlier}; each request needs its own`, {
        param: "custom_id",
      });
    }
    seen.set(request.customId, raw.line);
    out.push({ line: request.line, customId: request.customId });
  }
  if (out.length === 0) throw new FlotillaError("invalid_request", "the input file holds no request lines", { param: "input_file_id" });
  return { lines: out };
}
