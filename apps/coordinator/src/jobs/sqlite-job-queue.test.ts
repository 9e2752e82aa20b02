// The SQLite queue against the conformance suite (a fresh file per test),
// then what is SQLite's own: the file's settings and that jobs outlive a reopen.
// A kill -9 while enqueueing: sqlite-job-queue-durability.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteJobQueue } from "./sqlite-job-queue.ts";
import { jobQueueConformance } from "./job-queue-conformance.ts";

async function tempFile(): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-jobs-"));
  return { file: path.join(dir, "jobs.db"), remove: () => rm(dir, { recursive: true, force: true }) };
}

jobQueueConformance("SqliteJobQueue", async (options) => {
  const { file, remove } = await tempFile();
  const queue = new SqliteJobQueue(file, options);
  return {
    queue,
    async cleanup() {
      await queue.close();
      await remove();
    },
  };
});

test("the jobs file is private and in WAL mode", async () => {
  const { file, remove } = await tempFile();
  const queue = new SqliteJobQueue(file);
  try {
    await queue.enqueue({ kind: "chat", input: {} });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const reader = new DatabaseSync(file, { readOnly: true });
    assert.equal(reader.prepare("PRAGMA journal_mode").get()?.["journal_mode"], "wal");
    reader.close();
  } finally {
    await queue.close();
    await remove();
  }
});

test("a reopened queue has every job as it was, and leases them on", async () => {
  const { file, remove } = await tempFile();
  let now = 1_000;
  const nowMs = (): number => now;
  try {
    const first = new SqliteJobQueue(file, { nowMs });
    const waiting = await first.enqueue({ kind: "chat", input: { q: 1 }, idempotencyKey: "k" });
    const running = await first.enqueue({ kind: "chat", input: { q: 2 } });
    await first.enqueue({ kind: "chat", input: { q: 3 } });
    const lease = await first.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 1_000 });
    assert.equal(lease?.job.id, waiting.id);
    await first.close();

    const second = new SqliteJobQueue(file, { nowMs });
    assert.deepEqual(await second.get(waiting.id), lease?.job);
    assert.equal((await second.enqueue({ kind: "chat", input: {}, idempotencyKey: "k" })).id, waiting.id);
    assert.equal(await second.position(running.id), 0);
    now += 1_000;
    // The lease taken before the restart expires after it, and the job comes back.
    assert.equal(await second.sweep(), 1);
    assert.equal((await second.counts("brain")).queued, 3);
    await second.close();
  } finally {
    await remove();
  }
});

test("statements are prepared when the queue opens, never per call", async (t) => {
  const queue = new SqliteJobQueue(":memory:");
  const prepare = t.mock.method(DatabaseSync.prototype, "prepare");
  const job = await queue.enqueue({ kind: "chat", input: {}, idempotencyKey: "k" });
  await queue.enqueue({ kind: "chat", input: {}, idempotencyKey: "k" });
  await queue.position(job.id);
  const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 1_000 });
  assert.ok(lease);
  await queue.renew(job.id, lease.token, 1_000);
  await queue.start(job.id, lease.token);
  await queue.progress(job.id, lease.token, 0.5, "half");
  await queue.fail(job.id, lease.token, "busy", { retryable: true });
  await queue.cancel(job.id);
  await queue.get(job.id);
  await queue.list({ state: "cancelled" }, { limit: 10 });
  await queue.counts("brain");
  await queue.sweep();
  assert.equal(prepare.mock.callCount(), 0);
  prepare.mock.restore();
  await queue.close();
});
