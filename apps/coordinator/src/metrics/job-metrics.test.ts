// The job metrics as a scraper reads them: a real SqliteJobQueue in memory,
// on a clock the test moves, goes through enqueue, lease, retry, complete,
// expiry and cancel; what comes out is prom-client's text exposition, read
// series by series.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { SqliteJobQueue } from "../jobs/sqlite-job-queue.ts";
import { JobMetrics, JobTimer, observeJobs } from "./job-metrics.ts";

/** Every series line of the exposition: name, labels, value. */
function seriesOf(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1] !== undefined && pair[2] !== undefined) labels[pair[1]] = pair[2];
    }
    out.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return out;
}

/** The one series of `name` with exactly these labels; undefined when there is none. */
function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  const keys = Object.keys(labels);
  const hit = seriesOf(text).find(
    (s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]),
  );
  return hit?.value;
}

describe("job metrics", () => {
  let nowMs: number;
  let queue: SqliteJobQueue;
  let registry: Registry;
  let metrics: JobMetrics;
  let pools: string[];
  let stop: () => void;
  const scrape = () => registry.metrics();

  beforeEach(() => {
    nowMs = 1_000_000;
    // Random 0: a retry's backoff is its fixed half only, and the clock below moves past it.
    queue = new SqliteJobQueue(":memory:", { nowMs: () => nowMs, random: () => 0 });
    registry = new Registry();
    metrics = new JobMetrics(registry);
    pools = ["brain", "vision"];
    stop = observeJobs(queue, metrics, () => pools);
  });
  afterEach(async () => {
    stop();
    await queue.close();
  });

  test("flotilla_jobs counts each known pool's jobs by state at scrape time, every state shown", async () => {
    await queue.enqueue({ kind: "chat", input: {} });
    await queue.enqueue({ kind: "chat", input: {} });
    await queue.enqueue({ kind: "image", input: {} });
    const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    assert.ok(lease);

    const text = await scrape();
    assert.match(text, /^# TYPE flotilla_jobs gauge$/m);
    assert.equal(valueOf(text, "flotilla_jobs", { pool: "brain", state: "queued" }), 1);
    assert.equal(valueOf(text, "flotilla_jobs", { pool: "brain", state: "leased" }), 1);
    assert.equal(valueOf(text, "flotilla_jobs", { pool: "brain", state: "dead" }), 0);
    assert.equal(valueOf(text, "flotilla_jobs", { pool: "vision", state: "queued" }), 1);

    // Read at each scrape: a change shows at the next one, and a pool no longer known leaves.
    await queue.complete(lease.job.id, lease.token, { ok: true });
    pools = ["brain"];
    const later = await scrape();
    assert.equal(valueOf(later, "flotilla_jobs", { pool: "brain", state: "succeeded" }), 1);
    assert.equal(valueOf(later, "flotilla_jobs", { pool: "brain", state: "leased" }), 0);
    assert.equal(valueOf(later, "flotilla_jobs", { pool: "vision", state: "queued" }), undefined);
  });

  test("the wait is enqueue to first lease, on the queue's clock; a retry's lease adds no wait", async () => {
    const job = await queue.enqueue({ kind: "chat", input: {}, maxAttempts: 2 });
    nowMs += 2_500;
    const first = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    assert.ok(first);
    await queue.fail(job.id, first.token, "a node hung up", { retryable: true });
    nowMs += 600_000;
    const second = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    assert.ok(second, "leased again after its backoff");

    const text = await scrape();
    assert.match(text, /^# TYPE flotilla_job_wait_seconds histogram$/m);
    assert.equal(valueOf(text, "flotilla_job_wait_seconds_count", { pool: "brain", kind: "chat" }), 1);
    assert.equal(valueOf(text, "flotilla_job_wait_seconds_sum", { pool: "brain", kind: "chat" }), 2.5);
    assert.equal(valueOf(text, "flotilla_job_wait_seconds_bucket", { pool: "brain", kind: "chat", le: "2.5" }), 1);
    assert.equal(valueOf(text, "flotilla_job_wait_seconds_bucket", { pool: "brain", kind: "chat", le: "1" }), 0);
  });

  test("each attempt's run is its lease to its end, labelled by how it ended", async () => {
    const job = await queue.enqueue({ kind: "chat", input: {}, maxAttempts: 2 });
    const first = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    assert.ok(first);
    nowMs += 4_000;
    await queue.fail(job.id, first.token, "a node hung up", { retryable: true });
    nowMs += 600_000;
    const second = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    assert.ok(second);
    await queue.start(job.id, second.token);
    nowMs += 1_500;
    await queue.complete(job.id, second.token, { ok: true });

    const text = await scrape();
    assert.match(text, /^# TYPE flotilla_job_run_seconds histogram$/m);
    const run = (outcome: string) => ({ pool: "brain", kind: "chat", outcome });
    assert.equal(valueOf(text, "flotilla_job_run_seconds_count", run("retried")), 1);
    assert.equal(valueOf(text, "flotilla_job_run_seconds_sum", run("retried")), 4);
    assert.equal(valueOf(text, "flotilla_job_run_seconds_count", run("succeeded")), 1);
    assert.equal(valueOf(text, "flotilla_job_run_seconds_sum", run("succeeded")), 1.5, "from the second lease, not the first");
    assert.equal(valueOf(text, "flotilla_job_run_seconds_count", run("failed")), undefined);
  });

  test("an expired lease and its last one are timed as expired and dead; a queued job's cancel ran nothing", async () => {
    const job = await queue.enqueue({ kind: "image", input: {}, maxAttempts: 2 });
    await queue.lease({ pool: "vision", kinds: ["image"], workerId: "w", leaseMs: 10_000 });
    nowMs += 10_000;
    assert.equal(await queue.sweep(), 1);
    await queue.lease({ pool: "vision", kinds: ["image"], workerId: "w", leaseMs: 20_000 });
    nowMs += 20_000;
    assert.equal(await queue.sweep(), 1);
    assert.equal((await queue.get(job.id))?.state, "dead");

    const queued = await queue.enqueue({ kind: "image", input: {} });
    assert.equal((await queue.cancel(queued.id)).status, "cancelled");

    const text = await scrape();
    const run = (outcome: string) => ({ pool: "vision", kind: "image", outcome });
    assert.equal(valueOf(text, "flotilla_job_run_seconds_sum", run("expired")), 10);
    assert.equal(valueOf(text, "flotilla_job_run_seconds_sum", run("dead")), 20);
    assert.equal(valueOf(text, "flotilla_job_run_seconds_count", run("cancelled")), undefined);
  });

  test("a leased job's cancel is a cancelled run", async () => {
    const job = await queue.enqueue({ kind: "chat", input: {} });
    await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    nowMs += 3_000;
    await queue.cancel(job.id);
    const text = await scrape();
    assert.equal(valueOf(text, "flotilla_job_run_seconds_sum", { pool: "brain", kind: "chat", outcome: "cancelled" }), 3);
  });

  test("the unsubscribe stops both the timing and the counts", async () => {
    stop();
    await queue.enqueue({ kind: "chat", input: {} });
    await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
    const text = await scrape();
    assert.equal(seriesOf(text).filter((s) => s.name === "flotilla_jobs").length, 0);
    assert.equal(valueOf(text, "flotilla_job_wait_seconds_count", { pool: "brain", kind: "chat" }), undefined);
  });
});

describe("JobTimer", () => {
  test("an end whose lease it did not see (taken before a restart) is not timed, and leaves nothing open", async () => {
    let nowMs = 0;
    const queue = new SqliteJobQueue(":memory:", { nowMs: () => nowMs });
    try {
      const runs: number[] = [];
      const timer = new JobTimer({ waited: () => {}, ran: (_job, _outcome, s) => runs.push(s) });
      const job = await queue.enqueue({ kind: "chat", input: {} });
      const lease = await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 60_000 });
      assert.ok(lease);
      // Subscribed only now, as a coordinator that restarted would be.
      const unsubscribe = queue.subscribe((change) => timer.changed(change));
      nowMs += 5_000;
      await queue.complete(job.id, lease.token, null);
      unsubscribe();
      assert.deepEqual(runs, []);
      assert.equal(timer.open, 0);
    } finally {
      await queue.close();
    }
  });
});
