// Issue 17, "Measured": roamers. Real processes: a `flotilla coordinator`
// whose cluster file declares the brain pool with a llama template, a
// dedicated brain agent serving the test model on one slot, and two roamer
// agents whose own config files list the template with the model file (the
// model is on their disk: "already cached").
//
// 1. IDLE → RUNNING by hand: each round assigns roamer-a to brain
//    (POST /cluster/roamers/roamer-a/assign, duration manual) and polls
//    GET /cluster/roamers every 10 ms until it is RUNNING (the agent has
//    loaded the model and reported it); then releases it and times
//    RUNNING → IDLE the same way. Goal (issue): ≤ 5 s with the model cached.
// 2. A backlog: first a quarter as many jobs with both roamers drained (the
//    autoscaler lends only ready roamers: the pool alone), then `jobs` chat
//    jobs (max_tokens 48) submitted at once with the roamers free, the
//    autoscaler on (interval 500 ms, cooldown 2 s, release_after 2 s).
//    Measured from the submit: time until a roamer is RUNNING, jobs/s of the
//    pool alone and with the roamers, and the time from the last job's end
//    until both roamers are IDLE again. No goal in the issue: for context.
// The coordinator runs 8 text jobs at once (--job-concurrency), above the
// three nodes' slots (1 + 2 + 2), so lent roamers can raise throughput.
// The model pulled from the coordinator's store is measured by model-store.ts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { roamersResponse, type RoamerView } from "@flotilla/protocol";
import { startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";
import { joinToken, waitForModel } from "./cluster.ts";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";
import { ms, spread } from "./stats.ts";

const SUITE = "roamers";
const SETTINGS: Record<Mode, { rounds: number; jobs: number }> = { smoke: { rounds: 1, jobs: 20 }, quick: { rounds: 5, jobs: 200 }, full: { rounds: 15, jobs: 600 } };
const POLL_MS = 10;

export async function roamers(mode: Mode): Promise<BenchResult[]> {
  const { rounds, jobs } = SETTINGS[mode];
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-roamers-"));
  const started: FlotillaProcess[] = [];
  try {
    const model = await testModelPath();
    const { coordinator, adminKey } = await startCoordinator({
      dir,
      heartbeatIntervalMs: 1_000,
      label: "bench_roamers",
      clusterFile: [
        "pools:",
        "  brain: { kinds: [chat, completion], templates: [brain-llama], release_after: 2s }",
        "templates:",
        `  brain-llama: { driver: llama, model: ${TEST_MODEL_ID}, capabilities: [chat], expected_start_s: 5 }`,
        // On throughout: while the pool has no demand and its node is up, it lends nothing, and it leaves a manual lending alone.
        "roamers: { intervalMs: 500, cooldownMs: 2000 }",
      ],
      args: ["--job-concurrency", "8"],
    });
    started.push(coordinator);
    const url = coordinator.url;
    const auth = { authorization: `Bearer ${adminKey}` };
    const token = await joinToken(url, adminKey, 3);
    const agent = async (name: string, args: string[]) => {
      const proc = await startFlotilla({ command: "agent", dataDir: path.join(dir, name), env: { FLOTILLA_JOIN_TOKEN: token }, args: ["--join", url, "--name", name, ...args] });
      started.push(proc);
    };
    await agent("brain-1", ["--pool", "brain", "--model", model, "--slots", "1", "--ctx-size", "256"]);
    const roamerConfig = path.join(dir, "roamer.yaml");
    await writeFile(roamerConfig, `templates:\n  brain-llama: { driver: llama, model: ${TEST_MODEL_ID}, source: ${JSON.stringify(model)}, slots: 2, contextSize: 256 }\n`);
    await agent("roamer-a", ["--pool", "roamer", "--config", roamerConfig]);
    await agent("roamer-b", ["--pool", "roamer", "--config", roamerConfig]);
    await waitForModel(url, adminKey, TEST_MODEL_ID);
    const views = async (): Promise<RoamerView[]> => roamersResponse.parse(await (await fetch(`${url}/cluster/roamers`, { headers: auth })).json()).roamers;
    const until = async (what: string, check: (all: RoamerView[]) => boolean, timeoutMs = 120_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!check(await views())) {
        if (Date.now() > deadline) throw new Error(`roamers bench: timed out waiting for ${what}: ${JSON.stringify(await views())}`);
        await sleep(POLL_MS);
      }
    };
    const stateOf = (all: RoamerView[], name: string) => all.find((r) => r.name === name)?.state;
    await until("both roamers known and IDLE", (all) => stateOf(all, "roamer-a") === "IDLE" && stateOf(all, "roamer-b") === "IDLE");

    const toRunning: number[] = [];
    const toIdle: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const t0 = performance.now();
      const res = await fetch(`${url}/cluster/roamers/roamer-a/assign`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ pool: "brain", duration: "manual" }) });
      if (res.status !== 202) throw new Error(`assign answered ${res.status}: ${await res.text()}`);
      await until("roamer-a RUNNING", (all) => stateOf(all, "roamer-a") === "RUNNING");
      toRunning.push(performance.now() - t0);
      const t1 = performance.now();
      await fetch(`${url}/cluster/roamers/roamer-a/release`, { method: "POST", headers: auth });
      await until("roamer-a IDLE", (all) => stateOf(all, "roamer-a") === "IDLE");
      toIdle.push(performance.now() - t1);
    }

    // The backlog: first with both roamers drained (the pool alone: the autoscaler lends only ready roamers), then with them.
    const submitAll = (count: number, label: string) =>
      Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const body = { kind: "chat", input: { model: TEST_MODEL_ID, messages: [{ role: "user", content: `Once upon a time, ${label} ${i},` }], max_tokens: 48 } };
          const res = await fetch(`${url}/v1/jobs`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
          return ((await res.json()) as { id: string }).id;
        }),
      );
    /** Waits for every job; the ms from `t0` until the first roamer was RUNNING (null: none was) and until the last job ended. */
    const drainBacklog = async (ids: string[], t0: number): Promise<{ firstRunningMs: number | null; lastDoneMs: number }> => {
      let firstRunningMs: number | null = null;
      const pending = [...ids];
      while (pending.length > 0) {
        if (firstRunningMs === null && (await views()).some((r) => r.state === "RUNNING")) firstRunningMs = performance.now() - t0;
        // Jobs finish about in order: the first unfinished one stands for the rest until it ends.
        while (pending.length > 0) {
          const job = (await (await fetch(`${url}/v1/jobs/${pending[0]}`, { headers: auth })).json()) as { state: string };
          if (!["succeeded", "failed", "dead", "cancelled"].includes(job.state)) break;
          pending.shift();
        }
        if (pending.length > 0) await sleep(50);
        if (performance.now() - t0 > 600_000) throw new Error("roamers bench: a backlog did not drain in 10 minutes");
      }
      return { firstRunningMs, lastDoneMs: performance.now() - t0 };
    };
    const setDrained = (name: string, drained: boolean) => fetch(`${url}/cluster/nodes/${name}/${drained ? "drain" : "undrain"}`, { method: "POST", headers: auth });
    await Promise.all(["roamer-a", "roamer-b"].map((name) => setDrained(name, true)));
    const alone = Math.max(4, Math.round(jobs / 4));
    const tAlone = performance.now();
    const aloneRun = await drainBacklog(await submitAll(alone, "alone"), tAlone);
    await Promise.all(["roamer-a", "roamer-b"].map((name) => setDrained(name, false)));
    await until("both roamers ready to lend", (all) => all.every((r) => r.health === "ready"));
    const t0 = performance.now();
    const backlogEpochMs = Date.now();
    const backlog = await drainBacklog(await submitAll(jobs, "story"), t0);
    const t2 = performance.now();
    await until("both roamers back to IDLE", (all) => all.every((r) => r.state === "IDLE"));
    const backToIdle = performance.now() - t2;
    const lent = (await views()).filter((r) => r.history.some((h) => h.state === "RUNNING" && h.atMs >= backlogEpochMs)).length;

    const running = spread(toRunning);
    const rows: BenchResult[] = [
      {
        suite: SUITE,
        name: `IDLE → RUNNING by hand, llama template, model cached on the roamer (assign until RUNNING in /cluster/roamers), over ${rounds} rounds`,
        value: ms(running.median),
        range: `${ms(running.min)}–${ms(running.max)}`,
        goal: "≤ 5 s",
        met: running.max <= 5_000,
      },
      infoRow(SUITE, "RUNNING → IDLE on release (model unloaded, agent reports nothing)", toIdle, ms),
    ];
    const firstMs = backlog.firstRunningMs;
    rows.push(
      {
        suite: SUITE,
        name: `backlog of ${jobs} chat jobs (max_tokens 48) on a 1-slot pool, 2 roamers, autoscaler every 500 ms: time until the first roamer is RUNNING`,
        value: firstMs === null ? "no roamer was lent" : ms(firstMs),
        range: "",
        goal: "",
        met: null,
      },
      {
        suite: SUITE,
        name: `the same: jobs/s of the pool alone (${alone} jobs, roamers drained) / with the roamers (the whole backlog)`,
        value: `${(alone / (aloneRun.lastDoneMs / 1000)).toFixed(1)} / ${(jobs / (backlog.lastDoneMs / 1000)).toFixed(1)}`,
        range: "",
        goal: "",
        met: null,
      },
      { suite: SUITE, name: `the same: from the last job's end until both roamers are IDLE (release_after 2 s; ${lent} of 2 roamers were lent)`, value: ms(backToIdle), range: "", goal: "", met: null },
    );
    return rows;
  } finally {
    for (const proc of started.reverse()) await proc.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
