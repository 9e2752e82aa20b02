// Issue 12, "Measured": what flotilla's durable job queue costs per job,
// against the bare BullMQ it is built on. A no-op job goes enqueue → lease →
// start → complete (the path job-runner.ts takes; no work in between), for
// N jobs: first N enqueues, CONCURRENCY at a time, as POST /v1/jobs would
// make them; then CONCURRENCY async workers in this process lease, start and
// complete until the queue is empty. jobs/s end to end is N over both
// phases' wall time; each phase's rate is shown beside it.
//
// Variants, each on a fresh queue every round:
// - flotilla on Redis: BullMqJobQueue, on a private redis-server (never 6379);
// - bare BullMQ on the same Redis: Queue.add CONCURRENCY at a time, then a
//   Worker of concurrency CONCURRENCY with a no-op processor, until N
//   `completed` events (removeOnComplete, as flotilla's deliveries are;
//   no priority, which flotilla's deliveries always carry);
// - flotilla embedded: SqliteJobQueue on a temp file (synchronous=FULL, so
//   every change is synced before it resolves: this disk's fsync decides)
//   and, for context, on ":memory:".
// Connections are opened (and flotilla's per-pool BullMQ queue made, by one
// job run through) before the clock starts, for both Redis variants alike.
// A warm-up round (not kept) lets the JIT settle; then rounds rotate the
// variants' order (round r starts at variant r mod 4), so drift, Redis's
// growth and the JIT hit them alike, and Redis is flushed after each Redis
// variant. Rows: the median of the rounds with their min–max; the ratio
// flotilla ÷ bare BullMQ is taken round by round. Goal (issue 12): ≥ 0.9×.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { BullMqJobQueue, SqliteJobQueue, type JobQueue } from "@flotilla/coordinator/jobs";
import { startRedisServer, type RedisServer } from "@flotilla/testkit";
import type { BenchResult, Mode } from "./report.ts";
import { spread, times, type Spread } from "./stats.ts";

const SUITE = "job queue";
const SETTINGS = {
  smoke: { rounds: 1, jobs: 40, warmJobs: 10 },
  quick: { rounds: 5, jobs: 2_000, warmJobs: 500 },
  full: { rounds: 10, jobs: 10_000, warmJobs: 2_000 },
} as const;
/** Enqueuers, then workers, in flight at once. */
const CONCURRENCY = 8;
const GOAL_RATIO = 0.9;
const POOL = "brain";
const LEASE_MS = 60_000;
/** A no-op chat job's input: small, as the queue sees most text jobs' before their prompts grow. */
const input = (i: number) => ({ messages: [{ role: "user", content: `job ${i}` }] });

const VARIANTS = ["flotilla-redis", "bullmq", "sqlite-file", "sqlite-memory"] as const;
type Variant = (typeof VARIANTS)[number];
const LABEL: Record<Variant, string> = {
  "flotilla-redis": "flotilla on Redis (BullMqJobQueue)",
  bullmq: "bare BullMQ, same Redis",
  "sqlite-file": "flotilla embedded (SqliteJobQueue, file, synchronous=FULL)",
  "sqlite-memory": "flotilla embedded (SqliteJobQueue, :memory:)",
};

/** What one job goes through, in each variant's own calls. */
const PATH: Record<Variant, string> = {
  "flotilla-redis": "enqueue → lease → start → complete",
  bullmq: "add → no-op processor → completed",
  "sqlite-file": "enqueue → lease → start → complete",
  "sqlite-memory": "enqueue → lease → start → complete",
};

/** Wall time of each phase of one run, ms. */
interface Run {
  enqueueMs: number;
  drainMs: number;
}

interface Rig {
  redis: RedisServer;
  /** Flushes the private Redis between runs. */
  admin: Redis;
  dir: string;
  runs: number;
}

export async function jobQueue(mode: Mode): Promise<BenchResult[]> {
  const s = SETTINGS[mode];
  const redis = await startRedisServer();
  const rig: Rig = { redis, admin: new Redis(redis.url, { maxRetriesPerRequest: 1 }), dir: await mkdtemp(path.join(tmpdir(), "flotilla-bench-jobs-")), runs: 0 };
  const perRound = new Map<Variant, Run[]>(VARIANTS.map((v) => [v, []]));
  try {
    for (const variant of VARIANTS) await run(rig, variant, s.warmJobs);
    for (let r = 0; r < s.rounds; r++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const variant = VARIANTS[(r + k) % VARIANTS.length] as Variant;
        perRound.get(variant)?.push(await run(rig, variant, s.jobs));
      }
    }
  } finally {
    rig.admin.disconnect();
    await redis.stop();
    await rm(rig.dir, { recursive: true, force: true });
  }
  return rows(perRound, s.jobs);
}

async function run(rig: Rig, variant: Variant, jobs: number): Promise<Run> {
  rig.runs += 1;
  const prefix = `bench-${rig.runs}`;
  try {
    return await measure(rig, variant, prefix, jobs);
  } finally {
    if (variant === "flotilla-redis" || variant === "bullmq") await rig.admin.flushall();
  }
}

function measure(rig: Rig, variant: Variant, prefix: string, jobs: number): Promise<Run> {
  switch (variant) {
    case "flotilla-redis":
      return flotillaRun(new BullMqJobQueue({ url: rig.redis.url, prefix }), jobs);
    case "bullmq":
      return bareRun(rig.redis.url, prefix, jobs);
    case "sqlite-file":
      return flotillaRun(new SqliteJobQueue(path.join(rig.dir, `${prefix}.sqlite`)), jobs);
    case "sqlite-memory":
      return flotillaRun(new SqliteJobQueue(":memory:"), jobs);
  }
}

/** `n` calls of `each(i)`, `CONCURRENCY` in flight at a time. */
async function concurrently(n: number, each: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) await each(i);
    }),
  );
}

/** One job taken through the whole path, so that every connection and per-pool queue exists before timing. */
async function primed(queue: JobQueue, workerId: string): Promise<void> {
  await queue.enqueue({ kind: "chat", pool: POOL, input: input(-1) });
  await settleOne(queue, workerId);
}

/** Lease, start, complete one job; false when none was left to lease. */
async function settleOne(queue: JobQueue, workerId: string): Promise<boolean> {
  const lease = await queue.lease({ pool: POOL, kinds: ["chat"], workerId, leaseMs: LEASE_MS });
  if (lease === null) return false;
  const started = await queue.start(lease.job.id, lease.token);
  if (started.status !== "ok") throw new Error(`job queue bench: start of ${lease.job.id} said ${started.status}`);
  const completed = await queue.complete(lease.job.id, lease.token, { ok: true });
  if (completed.status !== "ok") throw new Error(`job queue bench: complete of ${lease.job.id} said ${completed.status}`);
  return true;
}

async function flotillaRun(queue: JobQueue, jobs: number): Promise<Run> {
  try {
    await primed(queue, "bench-primer");
    const enqueueStart = performance.now();
    await concurrently(jobs, (i) => queue.enqueue({ kind: "chat", pool: POOL, input: input(i) }));
    const drainStart = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        while (await settleOne(queue, `bench-worker-${w}`));
      }),
    );
    const end = performance.now();
    // Every job settled exactly once, or the rate means nothing.
    const counts = await queue.counts(POOL);
    if (counts.succeeded !== jobs + 1 || counts.queued + counts.leased + counts.running !== 0) {
      throw new Error(`job queue bench: after the drain ${JSON.stringify(counts)}, not ${jobs + 1} succeeded and none left`);
    }
    return { enqueueMs: drainStart - enqueueStart, drainMs: end - drainStart };
  } finally {
    await queue.close();
  }
}

async function bareRun(url: string, prefix: string, jobs: number): Promise<Run> {
  const name = `${POOL}.chat`;
  const connection = { url, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection, prefix });
  const worker = new Worker(name, () => Promise.resolve({ ok: true }), { connection, prefix, concurrency: CONCURRENCY, autorun: false });
  queue.on("error", () => undefined);
  worker.on("error", () => undefined);
  let completed = 0;
  let failed = 0;
  let drained: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (drained = resolve));
  // A failure ends the wait too, so a broken run throws instead of hanging.
  const settled = () => {
    if (completed + failed === jobs) drained();
  };
  worker.on("completed", () => {
    completed += 1;
    settled();
  });
  worker.on("failed", () => {
    failed += 1;
    settled();
  });
  try {
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    const enqueueStart = performance.now();
    await concurrently(jobs, (i) => queue.add("chat", input(i), { attempts: 1, removeOnComplete: true, removeOnFail: true }));
    const drainStart = performance.now();
    const running = worker.run();
    await allDone;
    const end = performance.now();
    if (failed !== 0) throw new Error(`job queue bench: bare BullMQ failed ${failed} no-op jobs`);
    await worker.close();
    await running;
    return { enqueueMs: drainStart - enqueueStart, drainMs: end - drainStart };
  } finally {
    await worker.close(true);
    await queue.close();
  }
}

function rows(perRound: Map<Variant, Run[]>, jobs: number): BenchResult[] {
  const count = (n: number) => (Number.isNaN(n) ? "n/a" : Math.round(n).toLocaleString("en-US"));
  const rate = (n: number) => `${count(n)} jobs/s`;
  const range = (s: Spread) => `${count(s.min)}–${count(s.max)}`;
  const endToEnd = (runs: Run[]) => runs.map((r) => (jobs * 1000) / (r.enqueueMs + r.drainMs));
  const what = `${jobs.toLocaleString("en-US")} no-op jobs, ${CONCURRENCY} at a time`;
  const results: BenchResult[] = [];
  for (const variant of VARIANTS) {
    const runs = perRound.get(variant) ?? [];
    const whole = spread(endToEnd(runs));
    results.push({ suite: SUITE, name: `${LABEL[variant]}: ${PATH[variant]}, ${what}, end to end`, value: rate(whole.median), range: `${range(whole)} jobs/s`, goal: "", met: null });
    const enqueue = spread(runs.map((r) => (jobs * 1000) / r.enqueueMs));
    const drain = spread(runs.map((r) => (jobs * 1000) / r.drainMs));
    results.push({
      suite: SUITE,
      name: `${LABEL[variant]}: enqueue phase / drain phase`,
      value: `${count(enqueue.median)} / ${rate(drain.median)}`,
      range: `${range(enqueue)} / ${range(drain)} jobs/s`,
      goal: "",
      met: null,
    });
  }
  const flotilla = endToEnd(perRound.get("flotilla-redis") ?? []);
  const bare = endToEnd(perRound.get("bullmq") ?? []);
  const ratio = spread(flotilla.map((f, i) => f / (bare[i] ?? Number.NaN)));
  results.push({
    suite: SUITE,
    name: "flotilla on Redis ÷ bare BullMQ, jobs/s end to end",
    value: times(ratio.median),
    range: `${times(ratio.min)}–${times(ratio.max)}`,
    goal: `≥ ${GOAL_RATIO}×`,
    met: ratio.median >= GOAL_RATIO,
  });
  return results;
}
