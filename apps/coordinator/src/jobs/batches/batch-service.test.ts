// The batch service over a real SQLite job queue and a real files.db, with a
// tiny worker of the test's own that leases and settles the children in the
// order the test chooses. Waits are on the service's own status changes; the
// clock is moved by hand.
import { after, afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import { SqliteJobQueue } from "../sqlite-job-queue.ts";
import type { Job } from "../job.ts";
import type { Lease } from "../job-queue.ts";
import { FilesDb } from "../files/files-db.ts";
import { FileStore, type StoredFile } from "../files/file-store.ts";
import { BatchStore } from "./batch-store.ts";
import { BatchService } from "./batch-service.ts";
import { newBatch, COMPLETION_WINDOW_MS, type Batch } from "./batch.ts";
import type { BatchStatus } from "./batch-state.ts";
import type { BatchOutputRecord } from "./batch-output.ts";

const OWNER = "key:alice";
const silent = { warn: () => {} };

const requestLine = (customId: string, content: string) =>
  JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: "m", messages: [{ role: "user", content }] } });

describe("batch service", () => {
  const dirs: string[] = [];
  let dir: string;
  let nowMs: number;
  let db: FilesDb;
  let files: FileStore;
  let store: BatchStore;
  let queue: SqliteJobQueue;
  let services: BatchService[];

  const service = () => {
    const s = new BatchService({ db, files, batches: store, queue, log: silent, nowMs: () => nowMs, checkEveryMs: 3_600_000 });
    services.push(s);
    return s;
  };

  /** Resolves with the batch once it reaches `status` (or at once if it is there). */
  const reach = (s: BatchService, id: string, status: BatchStatus) =>
    new Promise<Batch>((resolve) => {
      const now = s.get(id);
      if (now?.status === status) return resolve(now);
      const stop = s.subscribe((batch) => {
        if (batch.id === id && batch.status === status) {
          stop();
          resolve(batch);
        }
      });
    });

  const upload = (lines: string[]): Promise<StoredFile> => files.put(Buffer.from(`${lines.join("\n")}\n`), { owner: OWNER, purpose: "batch", filename: "in.jsonl" });

  const create = async (s: BatchService, lines: string[]) => {
    const input = await upload(lines);
    return s.create({ owner: OWNER, inputFile: input, endpoint: "/v1/chat/completions", metadata: { run: "t" }, lines: lines.map((l, i) => ({ line: i + 1, customId: (JSON.parse(l) as { custom_id: string }).custom_id })) });
  };

  const leaseAll = async (): Promise<Lease[]> => {
    const leases: Lease[] = [];
    for (;;) {
      const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "test", leaseMs: 60_000 });
      if (lease === null) return leases;
      leases.push(lease);
    }
  };
  const answer = (job: Job) => ({ response: { object: "chat.completion", echo: job.input }, nodes: ["node-a"] });

  const readFile = async (id: string | null): Promise<BatchOutputRecord[]> => {
    if (id === null) return [];
    const file = files.get(id);
    assert.ok(file, `file ${id} exists`);
    assert.equal(file.owner, OWNER, "output files belong to the batch's owner");
    assert.equal(file.purpose, "batch_output");
    return (await text(files.open(file))).trimEnd().split("\n").map((l) => JSON.parse(l) as BatchOutputRecord);
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-batches-"));
    dirs.push(dir);
    nowMs = 5_000_000;
    db = new FilesDb(path.join(dir, "files.db"));
    files = await FileStore.open(db, path.join(dir, "files"), { nowMs: () => nowMs });
    store = new BatchStore(db);
    queue = new SqliteJobQueue(path.join(dir, "jobs.db"), { nowMs: () => nowMs });
    services = [];
  });
  afterEach(async () => {
    for (const s of services) await s.stop();
    await queue.close();
    db.close();
  });
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test("each line becomes a low-priority job of the batch's owner; settled out of order, the files are in line order", async () => {
    const s = service();
    s.start();
    const created = await create(s, [requestLine("one", "a"), requestLine("two", "b"), requestLine("three", "c")]);
    assert.equal(created.status, "validating");
    await reach(s, created.id, "in_progress");

    const children = (await queue.list({ parentId: created.id }, { limit: 10 })).jobs;
    assert.deepEqual(children.map((j) => j.idempotencyKey), [`${created.id}:1`, `${created.id}:2`, `${created.id}:3`]);
    assert.ok(children.every((j) => j.kind === "chat" && j.priority === "low" && j.owner === OWNER && j.pool === "brain"));
    assert.deepEqual(children[1]?.input, { model: "m", messages: [{ role: "user", content: "b" }] }, "the input is the line's body");

    const leases = await leaseAll();
    assert.equal(leases.length, 3);
    const done = reach(s, created.id, "completed");
    // Last line first, and the middle one fails for good.
    for (const lease of [...leases].reverse()) {
      if (lease.job.idempotencyKey?.endsWith(":2")) await queue.fail(lease.job.id, lease.token, "model 'm' is not served", { retryable: false });
      else await queue.complete(lease.job.id, lease.token, answer(lease.job));
    }
    const batch = await done;
    assert.deepEqual(s.counts(batch.id), { completed: 2, failed: 1, pending: 0 });
    assert.ok(batch.inProgressAtMs !== null && batch.finalizingAtMs !== null && batch.completedAtMs !== null);

    const output = await readFile(batch.outputFileId);
    assert.deepEqual(output.map((r) => r.custom_id), ["one", "three"], "in line order, not settling order");
    assert.equal(output[0]?.response?.status_code, 200);
    assert.deepEqual(output[0]?.response?.body, { object: "chat.completion", echo: { model: "m", messages: [{ role: "user", content: "a" }] } });
    assert.equal(output[0]?.error, null);
    const errors = await readFile(batch.errorFileId);
    assert.deepEqual(errors.map((r) => [r.custom_id, r.error?.code, r.error?.message]), [["two", "request_failed", "model 'm' is not served"]]);
  });

  test("a batch with no failures has no error file", async () => {
    const s = service();
    s.start();
    const created = await create(s, [requestLine("only", "a")]);
    await reach(s, created.id, "in_progress");
    const done = reach(s, created.id, "completed");
    for (const lease of await leaseAll()) await queue.complete(lease.job.id, lease.token, answer(lease.job));
    const batch = await done;
    assert.equal(batch.errorFileId, null);
    assert.equal((await readFile(batch.outputFileId)).length, 1);
  });

  test("cancel: waiting and running children are cancelled; the batch ends cancelled with the partial output", async () => {
    const s = service();
    s.start();
    const created = await create(s, [requestLine("a", "1"), requestLine("b", "2"), requestLine("c", "3")]);
    await reach(s, created.id, "in_progress");
    const first = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "test", leaseMs: 60_000 });
    const second = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "test", leaseMs: 60_000 });
    assert.ok(first && second);
    await queue.complete(first.job.id, first.token, answer(first.job));

    const cancelled = reach(s, created.id, "cancelled");
    assert.equal(s.cancel(created.id)?.status, "cancelling");
    const batch = await cancelled;
    assert.equal((await queue.renew(second.job.id, second.token, 60_000)).status, "cancelled", "the running child learns of the cancel");
    assert.ok((await queue.list({ parentId: created.id }, { limit: 10 })).jobs.every((j) => j.state === "succeeded" || j.state === "cancelled"));
    assert.deepEqual((await readFile(batch.outputFileId)).map((r) => r.custom_id), ["a"]);
    assert.deepEqual((await readFile(batch.errorFileId)).map((r) => [r.custom_id, r.error?.code]), [["b", "batch_cancelled"], ["c", "batch_cancelled"]]);
    assert.deepEqual(s.counts(batch.id), { completed: 1, failed: 2, pending: 0 });
    assert.equal(s.cancel(created.id)?.status, "cancelled", "a second cancel changes nothing");
  });

  test("a completed batch cannot be cancelled (409)", async () => {
    const s = service();
    s.start();
    const created = await create(s, [requestLine("a", "1")]);
    await reach(s, created.id, "in_progress");
    const done = reach(s, created.id, "completed");
    for (const lease of await leaseAll()) await queue.complete(lease.job.id, lease.token, answer(lease.job));
    await done;
    assert.throws(() => s.cancel(created.id), /cannot be cancelled: it is completed/);
  });

  test("after 24 hours an unfinished batch expires: what finished is in the output, the rest batch_expired", async () => {
    const s = service();
    s.start();
    const created = await create(s, [requestLine("a", "1"), requestLine("b", "2")]);
    await reach(s, created.id, "in_progress");
    const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "test", leaseMs: 60_000 });
    assert.ok(lease);
    await queue.complete(lease.job.id, lease.token, answer(lease.job));
    nowMs += COMPLETION_WINDOW_MS - 1;
    s.check();
    await s.settled();
    assert.equal(s.get(created.id)?.status, "in_progress", "not before the window has passed");
    nowMs += 1;
    const expired = reach(s, created.id, "expired");
    s.check();
    const batch = await expired;
    assert.equal(batch.expiredAtMs, nowMs);
    assert.deepEqual((await readFile(batch.outputFileId)).map((r) => r.custom_id), ["a"]);
    assert.deepEqual((await readFile(batch.errorFileId)).map((r) => [r.custom_id, r.error?.code]), [["b", "batch_expired"]]);
  });

  test("a restart finishes what the last run left: lines half queued are queued once, missed outcomes are read from the queue", async () => {
    const input = await upload([requestLine("a", "1"), requestLine("b", "2"), requestLine("c", "3")]);
    // As a crash leaves it: the batch stored, line 1 queued, its job id never recorded.
    const batch = newBatch({ id: "batch_crashed", owner: OWNER, endpoint: "/v1/chat/completions", inputFileId: input.id, metadata: null, total: 3 }, nowMs);
    store.create(batch, [{ line: 1, customId: "a" }, { line: 2, customId: "b" }, { line: 3, customId: "c" }]);
    await queue.enqueue({ kind: "chat", input: {}, owner: OWNER, parentId: batch.id, idempotencyKey: `${batch.id}:1`, priority: "low" });

    const first = service();
    first.start();
    await reach(first, batch.id, "in_progress");
    assert.equal((await queue.list({ parentId: batch.id }, { limit: 10 })).jobs.length, 3, "line 1 was not queued twice");
    await first.stop();

    // The children finish while no service listens.
    for (const lease of await leaseAll()) await queue.complete(lease.job.id, lease.token, answer(lease.job));
    assert.equal(store.get(batch.id)?.status, "in_progress");

    const second = service();
    const done = reach(second, batch.id, "completed");
    second.start();
    const finished = await done;
    assert.deepEqual((await readFile(finished.outputFileId)).map((r) => r.custom_id), ["a", "b", "c"]);
  });

  test("an input file deleted before its lines were queued fails the batch, saying why", async () => {
    const input = await upload([requestLine("a", "1")]);
    const batch = newBatch({ id: "batch_orphan", owner: OWNER, endpoint: "/v1/chat/completions", inputFileId: input.id, metadata: null, total: 1 }, nowMs);
    store.create(batch, [{ line: 1, customId: "a" }]);
    await files.delete(input.id);
    const s = service();
    const failed = reach(s, batch.id, "failed");
    s.start();
    const ended = await failed;
    assert.equal(ended.errors[0]?.code, "input_file_missing");
    assert.equal((await queue.list({ parentId: batch.id }, { limit: 10 })).jobs.length, 0);
  });
});
