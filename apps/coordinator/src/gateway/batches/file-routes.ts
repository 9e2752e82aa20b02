// /v1/files: OpenAI's Files API over the coordinator's file store (docs/adr/0037).
// Uploads are multipart/form-data, as the official clients send them, and
// stream to disk with the size limit enforced as they come: a file past it is
// a 413 and nothing is kept. The gateway parses every other body as JSON
// (app.ts), so multipart is parsed here only, in this plugin's own scope.
// A file belongs to the key that uploaded it; any other key gets 404.
import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { FlotillaError } from "@flotilla/protocol";
import type { FileStore, StagedBlob, StoredFile } from "../../jobs/files/file-store.ts";
import { parseBody } from "../validate.ts";
import { rejectOtherMethods } from "../method-not-allowed.ts";
import { fileView, listView } from "./file-view.ts";
import { isMultipartRequest, multipartError, requireUploadLength } from "../multipart-uploads.ts";

export interface FileRoutesDeps {
  files: FileStore;
  /** Who is asking: a client key's owner id, `admin` or `open` (api/conversation-owner.ts). */
  ownerOf: (request: FastifyRequest) => string;
}

/** The purposes an upload may have now: batch input, and `user_data` (audio for a transcription job). */
export const UPLOAD_PURPOSES = ["batch", "user_data"] as const;

const MIN_EXPIRY_S = 3600;
const MAX_EXPIRY_S = 30 * 24 * 3600;

const uploadFields = z.strictObject({
  purpose: z.enum(UPLOAD_PURPOSES, { message: `purpose must be one of: ${UPLOAD_PURPOSES.join(", ")}` }),
  "expires_after[anchor]": z.literal("created_at").optional(),
  "expires_after[seconds]": z.coerce.number().int().min(MIN_EXPIRY_S).max(MAX_EXPIRY_S).optional(),
});

const listQuery = z.strictObject({
  purpose: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(["asc", "desc"]).default("desc"),
  after: z.string().min(1).max(100).optional(),
});

const idParams = z.strictObject({ id: z.string().min(1).max(100) });

export function registerFileRoutes(app: FastifyInstance, deps: FileRoutesDeps): void {
  void app.register(async (scope) => {
    await scope.register(multipart, {
      // The store enforces the size itself, while streaming; busboy's own limit is one byte past it, as a backstop.
      limits: { fileSize: deps.files.limits.maxFileBytes + 1, files: 1, fields: 10, parts: 12, fieldSize: 4096, headerPairs: 200 },
      throwFileSizeLimit: false,
    });
    requireUploadLength(scope);

    scope.post("/v1/files", (request, reply) => upload(request, reply, deps));
    scope.get("/v1/files", (request) => {
      const query = parseBody(listQuery, request.query ?? {});
      const page = deps.files.list({ owner: deps.ownerOf(request), ...query });
      return listView(page.files.map(fileView), page.hasMore);
    });
    scope.get("/v1/files/:id", (request) => fileView(ownFile(request, deps)));
    scope.delete("/v1/files/:id", async (request) => {
      const file = ownFile(request, deps);
      await deps.files.delete(file.id);
      return { id: file.id, object: "file", deleted: true };
    });
    scope.get("/v1/files/:id/content", (request, reply) => {
      const file = ownFile(request, deps);
      return reply
        .type(file.filename.endsWith(".jsonl") ? "application/jsonl" : "application/octet-stream")
        .header("content-length", String(file.bytes))
        .header("content-disposition", `attachment; filename="${file.filename.replace(/["\\\r\n]/g, "_")}"`)
        .send(deps.files.open(file));
    });
    rejectOtherMethods(scope, "/v1/files", ["GET", "POST"]);
    rejectOtherMethods(scope, "/v1/files/:id", ["GET", "DELETE"]);
    rejectOtherMethods(scope, "/v1/files/:id/content", ["GET"]);
  });
}

/** The caller's file; 404 for one that is missing, expired or another key's (which must not learn it exists). */
function ownFile(request: FastifyRequest, deps: FileRoutesDeps): StoredFile {
  const { id } = parseBody(idParams, request.params);
  const file = deps.files.get(id);
  if (file === null || file.owner !== deps.ownerOf(request)) throw new FlotillaError("not_found", `No such File object: ${id}`, { param: "id" });
  return file;
}

async function upload(request: FastifyRequest, reply: FastifyReply, deps: FileRoutesDeps) {
  if (!isMultipartRequest(request)) {
    throw new FlotillaError("unsupported_media_type", "upload a file as multipart/form-data, with the fields `file` and `purpose`");
  }
  const owner = deps.ownerOf(request);
  let staged: StagedBlob | undefined;
  let filename = "file";
  const fields: Record<string, string> = {};
  try {
    try {
      for await (const part of request.parts()) {
        if (part.type === "file") {
          if (part.fieldname !== "file") throw new FlotillaError("invalid_request", `${part.fieldname}: the file goes in the field \`file\``, { param: part.fieldname });
          filename = part.filename;
          staged = await deps.files.stage(part.file);
        } else {
          fields[part.fieldname] = String(part.value);
        }
      }
    } catch (err) {
      // The rest of the body is not read: close the connection once answered.
      void reply.header("connection", "close");
      throw multipartError(err, "`purpose`, `expires_after`");
    }
    if (staged === undefined) throw new FlotillaError("invalid_request", "file: a file is required", { param: "file" });
    const parsed = parseBody(uploadFields, fields);
    const blob = staged;
    const file = deps.files.record(blob, {
      owner,
      purpose: parsed.purpose,
      filename,
      ...(parsed["expires_after[seconds]"] === undefined ? {} : { retentionMs: parsed["expires_after[seconds]"] * 1000 }),
    });
    return fileView(file);
  } finally {
    if (staged !== undefined) deps.files.release(staged);
  }
}
