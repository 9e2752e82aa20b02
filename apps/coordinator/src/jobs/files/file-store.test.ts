// The file store on a real disk and a real files.db: the size limit is held
// while streaming (nothing kept past it), the same bytes are kept once,
// retention and the sweep follow a moved clock, and a blob being written is
// never swept.
import { after, afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { FlotillaError } from "@flotilla/protocol";
import { FilesDb } from "./files-db.ts";
import { FileStore } from "./file-store.ts";
import { fileLimitsFromEnv, DEFAULT_FILE_LIMITS } from "./file-limits.ts";

const DAY_MS = 24 * 3600 * 1000;

describe("file store", () => {
  const dirs: string[] = [];
  let dir: string;
  let db: FilesDb;
  let nowMs: number;
  const open = (options: { maxFileBytes?: number; retentionMs?: number } = {}) =>
    FileStore.open(db, path.join(dir, "files"), { ...options, nowMs: () => nowMs });
  const meta = { owner: "key:a", purpose: "batch", filename: "in.jsonl" };
  const blobs = async () => (await readdir(path.join(dir, "files"))).sort();

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-files-"));
    dirs.push(dir);
    db = new FilesDb(path.join(dir, "files.db"));
    nowMs = 1_000_000;
  });
  afterEach(() => db.close());
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test("put streams a file in; get, open and list give it back to its owner; files and blobs are 0600", async () => {
    const store = await open();
    const file = await store.put(Readable.from(["{\"a\":1}\n", "{\"b\":2}\n"]), meta);
    assert.match(file.id, /^file-[0-9a-f]{24}$/);
    assert.equal(file.bytes, 16);
    assert.equal(file.expiresAtMs, nowMs + DEFAULT_FILE_LIMITS.retentionMs);
    assert.deepEqual(store.get(file.id), file);
    assert.equal(await text(store.open(file)), "{\"a\":1}\n{\"b\":2}\n");
    assert.deepEqual(store.list({ owner: "key:a", limit: 10, order: "desc" }).files.map((f) => f.id), [file.id]);
    assert.deepEqual(store.list({ owner: "key:b", limit: 10, order: "desc" }).files, [], "another owner lists nothing");
    assert.equal((await stat(path.join(dir, "files", file.sha256))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dir, "files.db"))).mode & 0o777, 0o600);
  });

  test("a file over the limit is refused while streaming (413) and leaves nothing behind", async () => {
    const store = await open({ maxFileBytes: 1000 });
    let pulled = 0;
    // An endless source: only a limit enforced while streaming can end it.
    const endless = new Readable({
      read() {
        pulled += 100;
        this.push(Buffer.alloc(100, 0x61));
      },
    });
    await assert.rejects(store.put(endless, meta), (err) => err instanceof FlotillaError && err.code === "payload_too_large" && err.status === 413);
    assert.ok(pulled < 100_000, `stopped reading soon after the limit (read ${pulled} bytes)`);
    assert.deepEqual(await blobs(), [], "no blob and no temporary file is kept");
    assert.deepEqual(store.list({ owner: meta.owner, limit: 10, order: "asc" }).files, []);
    const exact = await store.put(Buffer.alloc(1000, 0x62), meta);
    assert.equal(exact.bytes, 1000, "exactly the limit is accepted");
  });

  test("the same bytes are kept once; the blob goes when the last file naming it is deleted", async () => {
    const store = await open();
    const a = await store.put(Buffer.from("same\n"), meta);
    const b = await store.put(Readable.from(["sa", "me\n"]), { ...meta, owner: "key:b" });
    assert.notEqual(a.id, b.id);
    assert.equal(a.sha256, b.sha256);
    assert.deepEqual(await blobs(), [a.sha256]);
    assert.equal(await store.delete(a.id), true);
    assert.equal(store.get(a.id), null);
    assert.deepEqual(await blobs(), [a.sha256], "b still names it");
    assert.equal(await text(store.open(b)), "same\n");
    assert.equal(await store.delete(b.id), true);
    assert.deepEqual(await blobs(), []);
    assert.equal(await store.delete(b.id), false, "a second delete finds nothing");
  });

  test("retention: an expired file is hidden at once and swept with its blob; a file kept forever stays", async () => {
    const store = await open({ retentionMs: DAY_MS });
    const short = await store.put(Buffer.from("short\n"), meta);
    const forever = await store.put(Buffer.from("forever\n"), { ...meta, retentionMs: null });
    const week = await store.put(Buffer.from("week\n"), { ...meta, retentionMs: 7 * DAY_MS });
    nowMs += DAY_MS;
    assert.equal(store.get(short.id), null, "expired: gone for readers before any sweep");
    assert.deepEqual(store.list({ owner: meta.owner, limit: 10, order: "asc" }).files.map((f) => f.id), [forever.id, week.id]);
    assert.deepEqual(await store.sweep(), { files: 1, blobs: 1 });
    assert.deepEqual((await blobs()).sort(), [forever.sha256, week.sha256].sort());
    nowMs += 7 * DAY_MS;
    assert.deepEqual(await store.sweep(), { files: 1, blobs: 1 });
    assert.notEqual(store.get(forever.id), null);
  });

  test("a staged blob is never swept before its row is recorded; released unrecorded, it is removed", async () => {
    const store = await open();
    const staged = await store.stage(Buffer.from("staged\n"));
    assert.deepEqual(await store.sweep(), { files: 0, blobs: 0 });
    assert.deepEqual(await blobs(), [staged.sha256]);
    const file = db.transaction(() => store.record(staged, meta));
    store.release(staged);
    assert.equal(await text(store.open(file)), "staged\n");
    const dropped = await store.stage(Buffer.from("dropped\n"));
    store.release(dropped);
    await store.sweep();
    assert.deepEqual(await blobs(), [staged.sha256]);
  });

  test("list pages by cursor, in either order", async () => {
    const store = await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await store.put(Buffer.from(`${i}\n`), meta)).id);
    const first = store.list({ owner: meta.owner, limit: 2, order: "asc" });
    assert.deepEqual(first.files.map((f) => f.id), ids.slice(0, 2));
    assert.equal(first.hasMore, true);
    const last = store.list({ owner: meta.owner, limit: 10, order: "asc", after: ids[1] ?? "" });
    assert.deepEqual(last.files.map((f) => f.id), ids.slice(2));
    assert.equal(last.hasMore, false);
    assert.deepEqual(store.list({ owner: meta.owner, limit: 2, order: "desc", after: ids[3] ?? "" }).files.map((f) => f.id), [ids[2], ids[1]]);
    assert.deepEqual(store.list({ owner: "key:b", limit: 2, order: "desc", after: ids[3] ?? "" }).files, [], "another owner's cursor finds nothing");
  });

  test("a restart removes what a crash left half-written", async () => {
    await open();
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "files", ".upload-leftover"), "half");
    await open();
    assert.deepEqual(await blobs(), []);
  });
});

test("limits from the environment: defaults, overrides, and a bad value named", () => {
  assert.deepEqual(fileLimitsFromEnv({}), DEFAULT_FILE_LIMITS);
  assert.deepEqual(fileLimitsFromEnv({ FLOTILLA_MAX_FILE_BYTES: "2048", FLOTILLA_FILE_RETENTION_DAYS: "2" }), { maxFileBytes: 2048, retentionMs: 2 * DAY_MS });
  assert.throws(() => fileLimitsFromEnv({ FLOTILLA_MAX_FILE_BYTES: "10MB" }), /FLOTILLA_MAX_FILE_BYTES must be a positive whole number/);
});
