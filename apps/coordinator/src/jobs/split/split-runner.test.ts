// The split runner over a real SQLite queue. The test itself is the text
// worker: it leases the chunks the runner queues and answers or fails them,
// so what the runner does with each outcome is seen directly.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { SplitResult } from "@flotilla/protocol";
import { SqliteJobQueue } from "../sqlite-job-queue.ts";
import type { Job } from "../job.ts";
import type { JobChange } from "../job-queue.ts";
import { SplitRunner } from "./split-runner.ts";

const worker = { workerId: "text-worker", leaseMs: 60_000 };
const completion = (content: string) => ({
  response: { object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } },
  nodes: ["node-a"],
});

async function setUp(t: TestContext, leaseMs = 60_000) {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-split-"));
  const queue = new SqliteJobQueue(path.join(dir, "jobs.db"));
  const runners: SplitRunner[] = [];
  const runner = () => {
    const made = new SplitRunner({ queue, pools: () => ["brain"], workerId: `split-${runners.length}`, leaseMs, log: { warn: () => {} }, pollMs: 20 });
    made.start();
    runners.push(made);
    return made;
  };
  t.after(async () => {
    for (const made of runners) await made.stop();
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  });
  /** Resolves with the first change that passes `want`, or at once with the job if it already does. */
  const until = (want: (job: Job) => boolean, id?: string) =>
    new Promise<Job>((resolve) => {
      const stop = queue.subscribe((change: JobChange) => {
        if ((id === undefined || change.job.id === id) && want(change.job)) {
          stop();
          resolve(change.job);
        }
      });
      if (id !== undefined) {
        void queue.get(id).then((job) => {
          if (job !== null && want(job)) {
            stop();
            resolve(job);
          }
        });
      }
    });
  /** Leases the next chunk the runner queued, waiting for one. */
  const nextChunk = async () => {
    for (;;) {
      const lease = await queue.lease({ pool: "brain", kinds: ["chat"], ...worker });
      if (lease !== null) return lease;
      await until((job) => job.kind === "chat" && job.state === "queued");
    }
  };
  return { queue, runner, until, nextChunk };
}

const submitSplit = (queue: SqliteJobQueue, commands: string, chunkSize: number) =>
  queue.enqueue({ kind: "split", input: { commands, chunk_size: chunkSize, model: "m", prompt_template: "Do: {chunk}" }, owner: "key:one" });

test("a split run queues one chat job per chunk, reports chunks done, and joins the answers in order", async (t) => {
  const { queue, runner, until, nextChunk } = await setUp(t);
  runner();
  const split = await submitSplit(queue, "l1\nl2\nl3\nl4\nl5\n", 2);
  const leases = [await nextChunk(), await nextChunk(), await nextChunk()];
  assert.deepEqual(leases.map((l) => (l.job.input as { messages: { content: string }[] }).messages[0]?.content), ["Do: l1\nl2", "Do: l3\nl4", "Do: l5"]);
  assert.ok(leases.every((l) => l.job.parentId === split.id && l.job.owner === "key:one"));
  // Answered out of order: the result keeps the chunks' order.
  for (const index of [2, 0, 1]) {
    const lease = leases[index];
    assert.ok(lease);
    await queue.complete(lease.job.id, lease.token, completion(`answer ${index}`));
    if (index === 2) await until((job) => job.progress?.message === "1 of 3 chunks done", split.id);
  }
  const done = await until((job) => job.state === "succeeded", split.id);
  const result = done.result as SplitResult;
  assert.equal(result.output, "answer 0\nanswer 1\nanswer 2");
  assert.deepEqual(result.chunks.map((c) => c.job_id), leases.map((l) => l.job.id));
  assert.deepEqual(result.usage, { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
});

test("a chunk that fails for good fails the run, naming it, and the other chunks are cancelled", async (t) => {
  const { queue, runner, until, nextChunk } = await setUp(t);
  runner();
  const split = await submitSplit(queue, "a\nb\nc", 1);
  const first = await nextChunk();
  await queue.fail(first.job.id, first.token, "the model refused", { retryable: false });
  const failed = await until((job) => job.state === "failed", split.id);
  assert.match(failed.error?.message ?? "", /^chunk 1 of 3 ended failed after 1 attempts: the model refused$/);
  const children = await queue.list({ parentId: split.id }, { limit: 10 });
  assert.deepEqual(children.jobs.map((c) => c.state), ["failed", "cancelled", "cancelled"]);
});

test("cancelling the run cancels its chunks", async (t) => {
  const { queue, runner, until, nextChunk } = await setUp(t);
  runner();
  const split = await submitSplit(queue, "a\nb", 1);
  const first = await nextChunk();
  const second = await nextChunk();
  await queue.cancel(split.id);
  // Both were running on a worker: each gets the cancel, as a node would.
  await until((job) => job.state === "cancelled", first.job.id);
  await until((job) => job.state === "cancelled", second.job.id);
  assert.deepEqual((await queue.list({ parentId: split.id }, { limit: 10 })).jobs.length, 2);
});

test("a run taken up again after its runner stopped finds its chunks and queues none twice", async (t) => {
  const { queue, runner, until, nextChunk } = await setUp(t, 300);
  const before = runner();
  const split = await submitSplit(queue, "a\nb\nc", 1);
  const first = await nextChunk();
  await queue.complete(first.job.id, first.token, completion("A"));
  await until((job) => job.progress?.message === "1 of 3 chunks done", split.id);
  await before.stop();
  runner();
  // Its lease runs out (300 ms), the new runner takes the run up again.
  await until((job) => job.state === "running" && job.attempts === 2, split.id);
  const rest = [await nextChunk(), await nextChunk()];
  for (const [i, lease] of rest.entries()) await queue.complete(lease.job.id, lease.token, completion(i === 0 ? "B" : "C"));
  const done = await until((job) => job.state === "succeeded", split.id);
  assert.equal((done.result as SplitResult).output, "A\nB\nC");
  assert.equal((await queue.list({ parentId: split.id }, { limit: 10 })).jobs.length, 3);
});

test("a run cancelled while no runner holds it still takes its chunks with it", async (t) => {
  const { queue, runner, until, nextChunk } = await setUp(t, 60_000);
  const first = runner();
  const split = await submitSplit(queue, "a\nb", 1);
  const chunk = await nextChunk();
  await first.stop();
  // The runner that took the run is gone (its lease would expire); a new one follows the queue.
  runner();
  await queue.cancel(split.id);
  await until((job) => job.state === "cancelled", chunk.job.id);
  const children = await queue.list({ parentId: split.id }, { limit: 10 });
  await Promise.all(children.jobs.map((c) => until((job) => job.state === "cancelled", c.id)));
});
