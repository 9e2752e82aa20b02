import { test } from "node:test";
import assert from "node:assert/strict";
import { SqliteJobQueue } from "./sqlite-job-queue.ts";
import { startJobSweeper } from "./job-sweeper.ts";

test("the sweeper takes back an expired lease without anyone leasing, and stops when told", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  let now = 0;
  const queue = new SqliteJobQueue(":memory:", { nowMs: () => now });
  const job = await queue.enqueue({ kind: "chat", input: {} });
  await queue.lease({ pool: "brain", kinds: ["chat"], workerId: "w", leaseMs: 1_000 });
  const requeued = new Promise<void>((resolve) => {
    queue.subscribe((change) => {
      if (change.type === "state" && change.event === "expire") resolve();
    });
  });
  const errors: unknown[] = [];
  const stop = startJobSweeper(queue, { intervalMs: 500, onError: (err) => errors.push(err) });
  now = 1_000;
  t.mock.timers.tick(500);
  await requeued;
  assert.equal((await queue.get(job.id))?.state, "queued");
  stop();
  assert.deepEqual(errors, []);
  await queue.close();
});

test("a failing sweep is reported, and the next tick sweeps again", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  let calls = 0;
  const failures: unknown[] = [];
  let reported!: () => void;
  const twice = new Promise<void>((resolve) => {
    reported = resolve;
  });
  const stop = startJobSweeper(
    {
      sweep: () => {
        calls += 1;
        return Promise.reject(new Error("redis away"));
      },
    },
    {
      intervalMs: 100,
      onError: (err) => {
        failures.push(err);
        if (failures.length === 2) reported();
      },
    },
  );
  t.mock.timers.tick(100);
  await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.mock.timers.tick(100);
  await twice;
  stop();
  assert.equal(calls, 2);
  assert.match(String(failures[0]), /redis away/);
});
