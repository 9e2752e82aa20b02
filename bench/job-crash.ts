// Issue 12, "Measured": kill -9 of the coordinator with jobs queued and
// running, then a restart on the same data (and the same Redis). A real
// `flotilla coordinator` runs chat jobs on an agentless node, the bench's
// mock upstream (a separate process, a stand-in for an inference server that
// streams 20 chunks 50 ms apart, so a job runs for about a second) which
// counts every request it is sent: the executions. 110 jobs are submitted;
// once 10 run (--job-concurrency 10), the coordinator is killed with SIGKILL
// and started again. Every job must reach a terminal state, each exactly once
// (its record), while executions may exceed 110 by the jobs that were running
// at the kill (at least once): those run again once their lease (3 heartbeat
// intervals, 3 s here) has expired. Both stores: embedded SQLite and Redis.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, startFlotilla, startRedisServer, testAdminKey, type FlotillaProcess } from "@flotilla/testkit";
import type { BenchResult, Mode } from "./report.ts";
import { startScript } from "./processes.ts";

const SUITE = "job crash";
const JOBS: Record<Mode, { queued: number; running: number }> = { smoke: { queued: 6, running: 2 }, quick: { queued: 100, running: 10 }, full: { queued: 100, running: 10 } };
const POLL_MS = 50;

interface Outcome {
  terminal: number;
  succeeded: number;
  executions: number;
  recoverMs: number;
}

export async function jobCrash(mode: Mode): Promise<BenchResult[]> {
  const { queued, running } = JOBS[mode];
  const results: BenchResult[] = [];
  for (const store of ["embedded", "redis"] as const) {
    const outcome = await crashOnce(store, queued + running, running);
    const total = queued + running;
    results.push(
      {
        suite: SUITE,
        name: `${store}: ${total} jobs, kill -9 with ${running} running, restart: jobs terminal, each once (executions on the node)`,
        value: `${outcome.terminal} / ${total} (${outcome.succeeded} succeeded; ${outcome.executions} executions)`,
        range: "",
        goal: `${total} / ${total}`,
        met: outcome.terminal === total && outcome.succeeded === total && outcome.executions >= total && outcome.executions <= total + running,
      },
      { suite: SUITE, name: `${store}: from the restart to every job terminal`, value: `${(outcome.recoverMs / 1000).toFixed(1)} s`, range: "", goal: "", met: null },
    );
  }
  return results;
}

async function crashOnce(store: "embedded" | "redis", total: number, running: number): Promise<Outcome> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-crash-"));
  const upstream = await startScript("mock-upstream.ts", ["20", "50"]);
  const redis = store === "redis" ? await startRedisServer() : undefined;
  const started: FlotillaProcess[] = [];
  try {
    const clusterFile = path.join(dir, "cluster.yaml");
    await writeFile(clusterFile, ["nodes:", "  - name: mock", `    url: http://127.0.0.1:${upstream.port}`, "    kind: openai", ""].join("\n"));
    const adminKey = testAdminKey(`bench_crash_${store}`);
    const port = await freePort();
    const start = () =>
      startFlotilla({
        command: "coordinator",
        port,
        dataDir: path.join(dir, "data"),
        env: { FLOTILLA_ADMIN_KEY: adminKey },
        args: ["--cluster-file", clusterFile, "--heartbeat-interval-ms", "1000", "--job-concurrency", String(running), ...(redis ? ["--queue", redis.url] : [])],
      });
    const first = await start();
    started.push(first);
    const headers = { "content-type": "application/json", authorization: `Bearer ${adminKey}` };
    const body = JSON.stringify({ kind: "chat", input: { model: "mock-paced", messages: [{ role: "user", content: "go" }] } });
    for (let i = 0; i < total; i++) {
      const res = await fetch(`${first.url}/v1/jobs`, { method: "POST", headers, body });
      if (res.status !== 202) throw new Error(`POST /v1/jobs answered ${res.status}: ${await res.text()}`);
    }
    const count = async (url: string, state: string) =>
      ((await (await fetch(`${url}/v1/jobs?state=${state}&limit=1000`, { headers })).json()) as { data: unknown[] }).data.length;
    while ((await count(first.url, "running")) < running) await sleep(POLL_MS);
    first.child.kill("SIGKILL");
    await first.stop();

    const second = await start();
    started.push(second);
    const t0 = performance.now();
    const terminal = async () => {
      let n = 0;
      for (const state of ["succeeded", "failed", "cancelled", "dead"]) n += await count(second.url, state);
      return n;
    };
    const deadline = Date.now() + 180_000;
    while ((await terminal()) < total && Date.now() < deadline) await sleep(POLL_MS);
    const recoverMs = performance.now() - t0;
    // A job that never ended is the finding: say which and how it stands.
    for (const state of ["queued", "leased", "running"]) {
      const left = ((await (await fetch(`${second.url}/v1/jobs?state=${state}&limit=1000`, { headers })).json()) as { data: unknown[] }).data;
      if (left.length > 0) process.stderr.write(`job crash (${store}): still ${state}: ${JSON.stringify(left)}\n`);
    }
    const executions = ((await (await fetch(`http://127.0.0.1:${upstream.port}/count`)).json()) as Record<string, number>)["mock-paced"] ?? 0;
    return { terminal: await terminal(), succeeded: await count(second.url, "succeeded"), executions, recoverMs };
  } finally {
    for (const p of started.reverse()) await p.stop();
    await upstream.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
