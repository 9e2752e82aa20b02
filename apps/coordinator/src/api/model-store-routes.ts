// The model store's routes (docs/adr/0042). Adding, listing and removing
// models is the admin's; looking a name up and downloading a file by its
// hash is also a joined node's, with its own credential, as an agent
// provisioning a `store:NAME` template does.
//
// An upload is a model file of gigabytes, so its route is unlike the rest of
// the API: its body is the raw bytes (application/octet-stream), handed to
// the store as a stream, never parsed nor held, in a scope of its own whose
// only parser is that one (the app's body limit belongs to its JSON parser
// and does not apply: Fastify enforces bodyLimit only where it reads a body
// whole itself). It must declare its Content-Length: the store checks
// the disk has room before reading a byte, and the body budget (ADR 0033)
// takes nothing for a declared length over the body limit, while it would
// count a chunked body's every byte. And it is let through Node's whole-
// request timeout (which would cut any upload longer than bodyTimeoutMs):
// it is bounded by progress instead, cut when no byte arrives for as long.
import { createReadStream } from "node:fs";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { FlotillaError, sha256Hex, storedModelName, toOpenAIErrorBody, type AddModelResponse, type StoredModel, type StoredModelsResponse } from "@flotilla/protocol";
import type { ModelStore } from "../models/model-store.ts";
import { byteRange, contentRange } from "../models/byte-range.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";

const nameParams = z.object({ name: storedModelName });
const hashParams = z.object({ sha256: sha256Hex });
/** Larger reads than the 64 KiB default: a model file is read end to end, and each chunk costs a trip through the stream machinery. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The sockets whose request is a model upload being received: the app's
 * clientErrorHandler lets Node's request timeout pass for them (app.ts).
 */
export class LongUploads {
  readonly #sockets = new WeakSet<Socket>();

  hold(socket: Socket): void {
    this.#sockets.add(socket);
  }

  release(socket: Socket): void {
    this.#sockets.delete(socket);
  }

  /** Whether `err`, Node's client error on `socket`, is the whole-request timeout of an upload in progress. */
  excuses(err: Error & { code?: string }, socket: Socket): boolean {
    return err.code === "ERR_HTTP_REQUEST_TIMEOUT" && this.#sockets.has(socket);
  }
}

export interface ModelStoreRouteOptions {
  store: ModelStore;
  requireAdmin: (request: FastifyRequest) => Promise<void>;
  /** The admin key or a joined node's credential. */
  requireAdminOrNode: (request: FastifyRequest) => Promise<void>;
  uploads: LongUploads;
  /** An upload that sends nothing for this long is cut (the app's bodyTimeoutMs). */
  uploadIdleMs: number;
  nowMs: () => number;
}

export function registerModelStoreRoutes(app: FastifyInstance, options: ModelStoreRouteOptions): void {
  const { store } = options;
  void app.register((admin, _opts, done) => {
    admin.addHook("onRequest", options.requireAdmin);
    admin.get("/cluster/models", (): StoredModelsResponse => ({ models: store.list() }));
    admin.delete("/cluster/models/:name", async (request, reply) => {
      const { name } = parseBody(nameParams, request.params);
      if ((await store.remove(name)) === undefined) throw notStored(name);
      return reply.code(204).send();
    });
    void admin.register((upload, _uploadOpts, uploadDone) => {
      registerUpload(upload, options);
      uploadDone();
    });
    rejectOtherMethods(admin, "/cluster/models", ["GET"]);
    rejectOtherMethods(admin, "/cluster/models/:name", ["PUT", "DELETE"]);
    done();
  });

  void app.register((nodes, _opts, done) => {
    nodes.addHook("onRequest", options.requireAdminOrNode);
    nodes.get("/cluster/models/:name/ref", (request): StoredModel => {
      const { name } = parseBody(nameParams, request.params);
      const model = store.get(name);
      if (model === undefined) throw notStored(name);
      return model;
    });
    // HEAD is declared, not left to Fastify, whose HEAD would read the whole file to throw it away.
    nodes.route({
      method: ["GET", "HEAD"],
      url: "/cluster/models/by-hash/:sha256",
      handler: (request, reply) => {
        const { sha256 } = parseBody(hashParams, request.params);
        const file = store.file(sha256);
        if (file === undefined) throw new FlotillaError("not_found", `the model store has no file of sha256 ${sha256}`, { param: "sha256" });
        const range = byteRange(request.headers.range, file.size);
        // The bytes of a hash never change: its ETag is the hash, and a resumed download needs no If-Range.
        void reply.header("accept-ranges", "bytes").header("etag", `"${sha256}"`).header("cache-control", "private, max-age=31536000, immutable");
        const rangeHeader = contentRange(range, file.size);
        if (rangeHeader !== undefined) void reply.header("content-range", rangeHeader);
        if (range.kind === "unsatisfiable") {
          const failure = new FlotillaError("invalid_request", `the range ${request.headers.range ?? ""} is outside the file's ${file.size} bytes`, { param: "range" });
          return reply.code(416).send(toOpenAIErrorBody(failure));
        }
        const [start, end] = range.kind === "partial" ? [range.start, range.end] : [0, file.size - 1];
        void reply.code(range.kind === "partial" ? 206 : 200).type("application/octet-stream").header("content-length", String(end - start + 1));
        if (request.method === "HEAD") return reply.send();
        return reply.send(createReadStream(file.path, { start, end, highWaterMark: READ_CHUNK_BYTES }));
      },
    });
    rejectOtherMethods(nodes, "/cluster/models/:name/ref", ["GET"]);
    rejectOtherMethods(nodes, "/cluster/models/by-hash/:sha256", ["GET"]);
    done();
  });
}

/** `PUT /cluster/models/:name`, in a scope whose only body parser hands the raw stream on. */
function registerUpload(scope: FastifyInstance, options: ModelStoreRouteOptions): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));
  // No Content-Type at all is raw bytes too (`curl -T FILE` sends none); any other type is a mistake.
  scope.addContentTypeParser("*", (request, payload, done) => {
    if (request.headers["content-type"] === undefined) done(null, payload);
    else done(new FlotillaError("unsupported_media_type", "send the model file as the body, with Content-Type: application/octet-stream (or none)"));
  });
  // Before the body budget's hook (preParsing) could count a chunked body byte by byte.
  scope.addHook("onRequest", (request, reply, done) => {
    if (request.method === "PUT" && declaredLength(request) === undefined) {
      void reply.header("connection", "close");
      done(new FlotillaError("invalid_request", "send the model file with a Content-Length header (a chunked upload is not accepted)"));
      return;
    }
    done();
  });
  scope.put("/cluster/models/:name", async (request, reply): Promise<AddModelResponse> => {
    const bytes = declaredLength(request) ?? 0;
    const { body } = request;
    if (!(body instanceof Readable)) throw new FlotillaError("invalid_request", "send the model file as the body, with Content-Type: application/octet-stream");
    const socket = request.raw.socket;
    options.uploads.hold(socket);
    // Idle, not total, time: the socket's own timeout, reset by every byte.
    request.raw.setTimeout(options.uploadIdleMs, () => {
      request.raw.destroy(new Error(`no bytes of the upload arrived for ${options.uploadIdleMs} ms`));
    });
    try {
      const { name } = parseBody(nameParams, request.params);
      const added = await options.store.add(name, body, bytes, options.nowMs());
      void reply.code(added.created ? 201 : 200);
      return { model: added.model, deduplicated: added.deduplicated, replacedSha256: added.replacedSha256 };
    } catch (err) {
      // A body left unread would otherwise be read to its end for the connection's next request.
      if (!body.readableEnded) void reply.header("connection", "close");
      throw err;
    } finally {
      request.raw.setTimeout(0);
      options.uploads.release(socket);
    }
  });
}

function declaredLength(request: FastifyRequest): number | undefined {
  const value = request.headers["content-length"];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const bytes = Number(value);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function notStored(name: string): FlotillaError {
  return new FlotillaError("not_found", `the model store has no model named ${name}; \`flotilla models list\` shows what it has`, { param: "name" });
}
