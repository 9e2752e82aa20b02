// /v1/batches: OpenAI's Batch API over the job queue (docs/adr/0037). Create
// checks the whole input file first (a bad line is a 400 naming it, and
// nothing is queued), then answers `validating` while the lines are queued
// in the background. A batch belongs to the key that made it; any other key
// gets 404.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { FlotillaError } from "@flotilla/protocol";
import type { FileStore } from "../../jobs/files/file-store.ts";
import type { BatchService } from "../../jobs/batches/batch-service.ts";
import type { Batch } from "../../jobs/batches/batch.ts";
import { BATCH_ENDPOINTS, isBatchEndpoint } from "../../jobs/batches/batch-input.ts";
import { parseBody } from "../validate.ts";
import { rejectOtherMethods } from "../method-not-allowed.ts";
import { batchView } from "./batch-view.ts";
import { listView } from "./file-view.ts";
import { validateBatchFile } from "./batch-validation.ts";

export interface BatchRoutesDeps {
  files: FileStore;
  batches: BatchService;
  /** Who is asking: a client key's owner id, `admin` or `open` (api/conversation-owner.ts). */
  ownerOf: (request: FastifyRequest) => string;
  /** Requests a batch may hold; default 50,000 (OpenAI's). */
  maxLines?: number;
}

const endpoints = Object.keys(BATCH_ENDPOINTS).join(", ");

/** As OpenAI's metadata: 16 pairs, keys up to 64 characters, values up to 512. */
const metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 16, { message: "at most 16 metadata pairs" });

const createBody = z.strictObject({
  input_file_id: z.string().min(1).max(100),
  endpoint: z.string().refine(isBatchEndpoint, { message: `endpoint must be one of: ${endpoints}` }),
  completion_window: z.literal("24h", { message: "completion_window must be 24h" }),
  metadata: metadata.nullable().optional(),
});

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).max(100).optional(),
});

const idParams = z.strictObject({ id: z.string().min(1).max(100) });

export function registerBatchRoutes(app: FastifyInstance, deps: BatchRoutesDeps): void {
  const view = (batch: Batch) => batchView(batch, deps.batches.counts(batch.id));

  app.post("/v1/batches", async (request) => {
    const body = parseBody(createBody, request.body);
    const owner = deps.ownerOf(request);
    const file = deps.files.get(body.input_file_id);
    if (file === null || file.owner !== owner) {
      throw new FlotillaError("not_found", `No such File object: ${body.input_file_id}`, { param: "input_file_id" });
    }
    if (file.purpose !== "batch") {
      throw new FlotillaError("invalid_request", `input_file_id: the file's purpose is ${file.purpose}, not batch`, { param: "input_file_id" });
    }
    if (!isBatchEndpoint(body.endpoint)) throw new FlotillaError("invalid_request", `endpoint must be one of: ${endpoints}`, { param: "endpoint" });
    const checked = await validateBatchFile(deps.files.open(file), body.endpoint, deps.maxLines);
    const batch = deps.batches.create({ owner, inputFile: file, endpoint: body.endpoint, metadata: body.metadata ?? null, lines: checked.lines });
    return view(batch);
  });
  app.get("/v1/batches", (request) => {
    const query = parseBody(listQuery, request.query ?? {});
    const page = deps.batches.list(deps.ownerOf(request), query.after, query.limit);
    return listView(page.batches.map(view), page.hasMore);
  });
  app.get("/v1/batches/:id", (request) => view(ownBatch(request, deps)));
  app.post("/v1/batches/:id/cancel", (request) => {
    const batch = ownBatch(request, deps);
    const cancelled = deps.batches.cancel(batch.id);
    if (cancelled === null) throw notFound(batch.id);
    return view(cancelled);
  });
  rejectOtherMethods(app, "/v1/batches", ["GET", "POST"]);
  rejectOtherMethods(app, "/v1/batches/:id", ["GET"]);
  rejectOtherMethods(app, "/v1/batches/:id/cancel", ["POST"]);
}

function ownBatch(request: FastifyRequest, deps: BatchRoutesDeps): Batch {
  const { id } = parseBody(idParams, request.params);
  const batch = deps.batches.get(id);
  if (batch === null || batch.owner !== deps.ownerOf(request)) throw notFound(id);
  return batch;
}

function notFound(id: string): FlotillaError {
  return new FlotillaError("not_found", `No such Batch object: ${id}`, { param: "id" });
}
