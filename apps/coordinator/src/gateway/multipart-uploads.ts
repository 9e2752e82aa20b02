// What every multipart upload route shares (OpenAI's files and
// transcriptions): the check that a request is multipart, the demand for a
// Content-Length, and busboy's errors in the catalogue's terms. The gateway
// parses other bodies as JSON (app.ts); multipart is parsed only inside the
// scopes of the routes that take it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "@flotilla/protocol";

export function isMultipartRequest(request: FastifyRequest): boolean {
  return (request.headers["content-type"] ?? "").toLowerCase().startsWith("multipart/form-data");
}

/**
 * A body sent in chunks without a length is counted chunk by chunk by the
 * body budget (app.ts) through a wrapper stream, which the multipart parser
 * does not read: it reads the request itself. OpenAI's clients and curl send
 * a length; ask for one rather than stall.
 */
export function requireUploadLength(scope: FastifyInstance): void {
  scope.addHook("preParsing", (request, reply, payload, done) => {
    if (isMultipartRequest(request) && request.headers["content-length"] === undefined) {
      void reply.header("connection", "close");
      done(new FlotillaError("invalid_request", "send the upload with a Content-Length header (chunked multipart uploads are not accepted)"));
      return;
    }
    done(null, payload);
  });
}

/** busboy's and the plugin's errors, in the catalogue's terms; `fields` names what the route takes. */
export function multipartError(err: unknown, fields: string): unknown {
  if (err instanceof FlotillaError) return err;
  const code = typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
  if (code === "FST_PARTS_LIMIT" || code === "FST_FILES_LIMIT" || code === "FST_FIELDS_LIMIT") {
    return new FlotillaError("invalid_request", `send one file (\`file\`) and its fields (${fields}) only`);
  }
  if (code === "FST_REQ_FILE_TOO_LARGE") return new FlotillaError("payload_too_large", "the file is larger than this server accepts");
  const message = err instanceof Error ? err.message : String(err);
  return new FlotillaError("invalid_request", `the multipart body could not be read: ${message}`);
}
