// /v1/files and /v1/batches over real HTTP on loopback, driven by the
// official openai client, in an app built as the gateway builds its own:
// every body parsed as JSON (multipart only inside the file routes' plugin),
// the body budget on, and a body limit far below the uploads. The queue is
// real (SQLite); a tiny worker of the test's own settles the jobs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import OpenAI, { toFile } from "openai";
import { toOpenAIErrorBody, tooManyBodies } from "@flotilla/protocol";
import { budgetBodies } from "@flotilla/security/body-budget";
import { SqliteJobQueue } from "../../jobs/sqlite-job-queue.ts";
import { FilesDb } from "../../jobs/files/files-db.ts";
import { FileStore } from "../../jobs/files/file-store.ts";
import { BatchStore } from "../../jobs/batches/batch-store.ts";
import { BatchService } from "../../jobs/batches/batch-service.ts";
import { toFlotillaError } from "../errors.ts";
import { registerFileRoutes } from "./file-routes.ts";
import { registerBatchRoutes } from "./batch-routes.ts";

const BODY_LIMIT = 4096;
const MAX_FILE_BYTES = 256 * 1024;

const chatLine = (customId: string, body: Record<string, unknown> = { model: "m", messages: [{ role: "user", content: customId }] }) =>
  JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body });

function ownerOf(request: FastifyRequest): string {
  const auth = request.headers.authorization ?? "";
  return auth.startsWith("Bearer ") ? `key:${auth.slice(7)}` : "open";
}

function buildApp(files: FileStore, batches: BatchService): FastifyInstance {
  const app = Fastify({ bodyLimit: BODY_LIMIT });
  budgetBodies(app, 64 * 1024, tooManyBodies);
  // As app.ts: no parser but JSON, whatever the content type.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("*", { parseAs: "string" }, (request, body, done) => {
    void parseJson(request, typeof body === "string" ? body : body.toString("utf8"), done);
  });
  app.setErrorHandler((err, request, reply) => {
    const failure = toFlotillaError(err, request.log);
    return reply.code(failure.status).send(toOpenAIErrorBody(failure));
  });
  registerFileRoutes(app, { files, ownerOf });
  registerBatchRoutes(app, { files, batches, ownerOf, maxLines: 5 });
  return app;
}

describe("files and batches routes with the openai client", () => {
  let dir: string;
  let db: FilesDb;
  let files: FileStore;
  let queue: SqliteJobQueue;
  let batches: BatchService;
  let app: FastifyInstance;
  let alice: OpenAI;
  let bob: OpenAI;
  let baseUrl: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-batch-routes-"));
    db = new FilesDb(path.join(dir, "files.db"));
    files = await FileStore.open(db, path.join(dir, "files"), { maxFileBytes: MAX_FILE_BYTES });
    queue = new SqliteJobQueue(path.join(dir, "jobs.db"));
    batches = new BatchService({ db, files, batches: new BatchStore(db), queue, log: { warn: () => {} } });
    batches.start();
    app = buildApp(files, batches);
    baseUrl = await app.listen({ host: "127.0.0.1", port: 0 });
    alice = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "alice", maxRetries: 0 });
    bob = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "bob", maxRetries: 0 });
  });
  after(async () => {
    await app.close();
    await batches.stop();
    await queue.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Settles every queued job as the test's worker: an echo of the input, as a chat.completion. */
  const work = async () => {
    for (;;) {
      const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "test", leaseMs: 60_000 });
      if (lease === null) return;
      await queue.complete(lease.job.id, lease.token, { response: { object: "chat.completion", echo: lease.job.input }, nodes: ["n"] });
    }
  };
  const reach = (id: string, status: string) =>
    new Promise<void>((resolve) => {
      if (batches.get(id)?.status === status) return resolve();
      const stop = batches.subscribe((b) => {
        if (b.id === id && b.status === status) {
          stop();
          resolve();
        }
      });
    });

  test("upload (larger than the body limit), create, run, retrieve and read the output, in OpenAI's shapes", async () => {
    const padding = "x".repeat(BODY_LIMIT * 4);
    const lines = [chatLine("first", { model: "m", messages: [{ role: "user", content: padding }] }), chatLine("second"), chatLine("third")];
    const file = await alice.files.create({ file: await toFile(Buffer.from(lines.join("\n")), "requests.jsonl"), purpose: "batch" });
    assert.equal(file.object, "file");
    assert.equal(file.purpose, "batch");
    assert.equal(file.filename, "requests.jsonl");
    assert.ok(file.bytes > BODY_LIMIT, "an upload is not held to the JSON body limit");
    assert.deepEqual(await alice.files.retrieve(file.id), file);

    const created = await alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { run: "1" } });
    assert.equal(created.object, "batch");
    assert.equal(created.status, "validating");
    assert.deepEqual(created.request_counts, { total: 3, completed: 0, failed: 0 });
    assert.deepEqual(created.metadata, { run: "1" });
    await reach(created.id, "in_progress");
    const done = reach(created.id, "completed");
    await work();
    await done;

    const batch = await alice.batches.retrieve(created.id);
    assert.equal(batch.status, "completed");
    assert.deepEqual(batch.request_counts, { total: 3, completed: 3, failed: 0 });
    assert.equal(batch.error_file_id, null);
    assert.ok(batch.output_file_id);
    assert.ok((batch.completed_at ?? 0) >= batch.created_at);
    const output = await (await alice.files.content(batch.output_file_id)).text();
    const records = output.trimEnd().split("\n").map((l) => JSON.parse(l) as { id: string; custom_id: string; response: { status_code: number; body: { echo: { messages: { content: string }[] } } }; error: null });
    assert.deepEqual(records.map((r) => r.custom_id), ["first", "second", "third"]);
    assert.ok(records.every((r) => r.response.status_code === 200 && r.error === null && r.id.startsWith("batch_req_")));
    assert.equal(records[1]?.response.body.echo.messages[0]?.content, "second");

    const listed = await alice.batches.list({ limit: 10 });
    assert.ok(listed.data.some((b) => b.id === created.id));
    const fileList = await alice.files.list();
    assert.ok(fileList.data.some((f) => f.id === batch.output_file_id && f.purpose === "batch_output"));
  });

  test("a bad line is a 400 naming its line and field, and nothing is queued", async () => {
    const before = (await queue.list({}, { limit: 1000 })).jobs.length;
    const file = await alice.files.create({ file: await toFile(Buffer.from([chatLine("a"), chatLine("b", { model: "m" })].join("\n")), "bad.jsonl"), purpose: "batch" });
    await assert.rejects(alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.match(err.message, /line 2: body\.messages: /);
      assert.equal(err.code, "invalid_request");
      return true;
    });
    const mismatch = await alice.files.create({ file: await toFile(Buffer.from(chatLine("a")), "m.jsonl"), purpose: "batch" });
    await assert.rejects(alice.batches.create({ input_file_id: mismatch.id, endpoint: "/v1/embeddings", completion_window: "24h" }), /line 1: url: \/v1\/chat\/completions is not the batch's endpoint/);
    const tooMany = await alice.files.create({ file: await toFile(Buffer.from(["a", "b", "c", "d", "e", "f"].map((c) => chatLine(c)).join("\n")), "many.jsonl"), purpose: "batch" });
    await assert.rejects(alice.batches.create({ input_file_id: tooMany.id, endpoint: "/v1/chat/completions", completion_window: "24h" }), /line 6: a batch holds at most 5 requests/);
    assert.equal((await queue.list({}, { limit: 1000 })).jobs.length, before);
  });

  test("create refuses a window other than 24h, an unknown endpoint and a file of another purpose or owner", async () => {
    const file = await alice.files.create({ file: await toFile(Buffer.from(chatLine("a")), "in.jsonl"), purpose: "batch" });
    const post = (key: string, body: unknown) =>
      fetch(`${baseUrl}/v1/batches`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const window = await post("alice", { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "48h" });
    assert.equal(window.status, 400);
    assert.match(((await window.json()) as { error: { message: string } }).error.message, /completion_window must be 24h/);
    const endpoint = await post("alice", { input_file_id: file.id, endpoint: "/v1/moderations", completion_window: "24h" });
    assert.equal(endpoint.status, 400);
    const stolen = await post("bob", { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    assert.equal(stolen.status, 404, "bob cannot batch alice's file");
  });

  test("another key gets 404 for a batch and its files; it cannot cancel or list them", async () => {
    const file = await alice.files.create({ file: await toFile(Buffer.from(chatLine("a")), "in.jsonl"), purpose: "batch" });
    const batch = await alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await assert.rejects(bob.batches.retrieve(batch.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.batches.cancel(batch.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.files.retrieve(file.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.files.content(file.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.files.delete(file.id), (err) => err instanceof OpenAI.NotFoundError);
    assert.ok(!(await bob.batches.list()).data.some((b) => b.id === batch.id));
    assert.ok(!(await bob.files.list()).data.some((f) => f.id === file.id));

    const cancelled = reach(batch.id, "cancelled");
    const cancelling = await alice.batches.cancel(batch.id);
    assert.ok(cancelling.status === "cancelling" || cancelling.status === "cancelled");
    await cancelled;
    assert.equal((await alice.batches.retrieve(batch.id)).status, "cancelled");
    const deleted = await alice.files.delete(file.id);
    assert.deepEqual(deleted, { id: file.id, object: "file", deleted: true });
    await assert.rejects(alice.files.retrieve(file.id), (err) => err instanceof OpenAI.NotFoundError);
  });

  test("a file over the limit is a 413 and nothing is kept; a purpose other than batch is a 400", async () => {
    const blobsBefore = (await readdir(path.join(dir, "files"))).length;
    const form = new FormData();
    form.append("purpose", "batch");
    form.append("file", new Blob([Buffer.alloc(MAX_FILE_BYTES + 1, 0x61)]), "big.jsonl");
    const res = await fetch(`${baseUrl}/v1/files`, { method: "POST", headers: { authorization: "Bearer alice" }, body: form });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "payload_too_large");
    assert.equal((await readdir(path.join(dir, "files"))).length, blobsBefore, "no blob, no temporary file");

    await assert.rejects(alice.files.create({ file: await toFile(Buffer.from("x"), "x.txt"), purpose: "assistants" }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.match(err.message, /purpose must be one of: batch/);
      return true;
    });
    const json = await fetch(`${baseUrl}/v1/files`, { method: "POST", headers: { authorization: "Bearer alice", "content-type": "application/json" }, body: "{}" });
    assert.equal(json.status, 415);
  });

  test("a multipart upload without a length is refused at once, not stalled behind the body budget", async () => {
    const { request } = await import("node:http");
    const boundary = "b0undary";
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${baseUrl}/v1/files`, { method: "POST", headers: { authorization: "Bearer alice", "content-type": `multipart/form-data; boundary=${boundary}`, "transfer-encoding": "chunked" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`);
      req.end(`--${boundary}--\r\n`);
    });
    assert.equal(status, 400);
  });

});
