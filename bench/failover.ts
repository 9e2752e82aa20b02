// Issue 5, item 5: failover. A `flotilla coordinator` and three `flotilla
// agent`s (separate processes, each serving the test model) under a steady
// open-loop load (20 requests/s, 8 tokens each) of non-streaming chat
// requests from the bench; each round kill -9s one agent, then (with it
// restarted and the cluster whole again) SIGSTOPs one, and SIGCONTs it at the
// end of the phase. The victim is the node that answered most requests just
// before: at this load the router's tie-break on measured latency sends most
// traffic to one node, and failing an idle one would test nothing. The
// coordinator runs with a cluster file as a user would tune it for fast
// failover: per-tier connect timeout 500 ms, idle 1 s, a circuit that opens
// on the first failure, heartbeats every second (a node is suspect after
// 1.5 s of silence and skipped while others can serve).
//
// What is measured, per phase (the signal at t0, `observeMs` after it):
// - client errors: requests overlapping the phase that did not get a 200 with
//   an answer (goal 0: non-streaming requests are retried before any text
//   reaches the client).
// - retried tries: the delta of flotilla_retries_total{node=victim} on
//   /metrics, which the bench polls every 100 ms along with /cluster/status.
// - time until no request goes to the victim: from t0 to the first poll that
//   shows the counter at its final value, so an upper bound (the poll's
//   resolution, and for the hung node the timeout the last try waited out,
//   are included). Goal ≤ 3.5 s for the hung node; the issue sets none
//   for the dead one.
// - added latency of retried requests: the client cannot tell which of its
//   requests were retried (the response does not say), so the figure is an
//   upper bound: for each poll interval in which k retries were counted, the
//   k slowest of the requests open during that interval stand in for the
//   retried ones (which were open then, and are at most as slow, one by one);
//   the figure is the slowest of those minus the p50 of the requests
//   answered in the `baselineMs` before t0. On a busy machine the slowest of
//   a few requests is slow anyway, so the same statistic is also taken on
//   intervals as long, with the same k, inside the baseline (no failure
//   there): the method's noise floor, shown beside it. After kill -9
//   the dead node refuses connections (goal ≤ 50 ms); a request that was
//   being answered there at the kill is redone elsewhere and counts too. For
//   the hung node the figure is the timeout waited out (connect for a new
//   try: a SIGSTOPped process's kernel still accepts connections; idle for
//   one it was answering): shown, no goal.
// Smoke runs one short round and does not restart the killed agent.
// Rows give the median of the rounds with their min–max; errors are summed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import { fetchClusterStatus, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";
import { joinToken, waitForModel } from "./cluster.ts";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";
import { ms, quantile, spread } from "./stats.ts";

const SUITE = "failover";
const NAMES = ["a", "b", "c"] as const;
const BEAT_MS = 1_000;
const CONNECT_MS = 500;
const IDLE_MS = 1_000;
const POLL_MS = 100;
const SETTINGS = {
  // Smoke: one short round, the killed agent not restarted (start-up is most of the time).
  smoke: { rounds: 1, ratePerS: 10, warmMs: 0, baselineMs: 500, observeMs: 1_000, restart: false },
  quick: { rounds: 3, ratePerS: 20, warmMs: 3_000, baselineMs: 2_000, observeMs: 4_000, restart: true },
  full: { rounds: 6, ratePerS: 20, warmMs: 5_000, baselineMs: 3_000, observeMs: 6_000, restart: true },
} as const;
const BODY = JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Tell me a story." }], max_tokens: 8, temperature: 0 });

interface Sent {
  /** Scheduled start and answer, performance.now() ms. */
  at: number;
  done: number;
  ok: boolean;
  /** x-flotilla-node of the answer. */
  node: string;
}
interface Poll {
  /** When it was sent, and when both answers were in: what it read held at some time in between. */
  start: number;
  at: number;
  retries: Map<string, number>;
  states: Map<string, { state: string; circuit: string }>;
}
/** A phase: its victim, when the signal went (t0) and when its last poll ended (end), performance.now() ms. */
interface Marks {
  victim: string;
  t0: number;
  end: number;
}
interface Phase {
  errors: number;
  requests: number;
  retries: number;
  /** s from the signal to the last try on the victim (NaN when none went there). */
  lastTryS: number;
  /** ms, upper bound; NaN when nothing was retried. */
  addedMs: number;
  /** The same statistic on as many intervals, as long, before t0: what it gives with no failure. */
  floorMs: number;
  /** s from the signal until /cluster/status showed the victim not ready. */
  notReadyS: number;
}

export async function failover(mode: Mode): Promise<BenchResult[]> {
  const s = SETTINGS[mode];
  const modelPath = await testModelPath();
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-failover-"));
  const agents = new Map<string, FlotillaProcess>();
  let coordinator: FlotillaProcess | undefined;
  let load: Load | undefined;
  let poller: Poller | undefined;
  try {
    const started = await startCoordinator({
      dir,
      label: "bench_failover",
      heartbeatIntervalMs: BEAT_MS,
      env: { FLOTILLA_DISCOVERY: "explicit" },
      clusterFile: [
        "routing:",
        "  timeouts:",
        `    "1": { connectMs: ${CONNECT_MS}, firstTokenMs: 3000, idleMs: ${IDLE_MS} }`,
        "  circuit: { failuresToOpen: 1, baseEjectionMs: 1000, maxEjectionMs: 4000 }",
      ],
    });
    coordinator = started.coordinator;
    const adminKey = started.adminKey;
    const url = coordinator.url;
    const startAgent = async (name: string, token?: string) => {
      const agent = await startFlotilla({
        command: "agent",
        dataDir: path.join(dir, name),
        env: { FLOTILLA_DISCOVERY: "explicit" },
        args: [
          "--join", url, ...(token ? ["--token", token] : []), "--name", name, "--model", modelPath,
          "--slots", "2", "--threads", "1", "--heartbeat-interval-ms", String(BEAT_MS),
        ],
      });
      agents.set(name, agent);
    };
    const token = await joinToken(url, adminKey, NAMES.length);
    await Promise.all(NAMES.map((name) => startAgent(name, token)));
    await waitForModel(url, adminKey, TEST_MODEL_ID);
    const whole = () => waitForWhole(url, adminKey, NAMES.length);
    await whole();
    const signal = (name: string, sig: NodeJS.Signals) => {
      const pid = agents.get(name)?.child.pid;
      if (pid === undefined) throw new Error(`agent ${name} is not running`);
      process.kill(pid, sig);
    };

    load = startLoad(url, adminKey, s.ratePerS);
    poller = startPoller(url, adminKey);
    // Fresh processes answer slowly at first (JIT, caches): not a baseline.
    await sleep(s.warmMs + s.baselineMs);
    // Analysed once the load has stopped and every request has its answer.
    const killed: Marks[] = [];
    const stopped: Marks[] = [];
    const alive = new Set<string>(NAMES);
    for (let r = 0; r < s.rounds; r++) {
      const dead = busiest(load.sent, s.baselineMs, alive);
      const t0 = performance.now();
      signal(dead, "SIGKILL");
      await sleep(s.observeMs);
      killed.push({ victim: dead, t0, end: await poller.now() });
      if (s.restart) {
        await startAgent(dead);
        await whole();
        await sleep(s.baselineMs);
      } else {
        alive.delete(dead);
      }

      const hung = busiest(load.sent, s.baselineMs, alive);
      const t1 = performance.now();
      signal(hung, "SIGSTOP");
      try {
        await sleep(s.observeMs);
        stopped.push({ victim: hung, t0: t1, end: await poller.now() });
      } finally {
        signal(hung, "SIGCONT");
      }
      if (s.restart && r < s.rounds - 1) {
        await whole();
        await sleep(s.baselineMs);
      }
    }
    const { sent } = load;
    const { polls } = poller;
    await load.stop();
    await poller.stop();
    load = undefined;
    poller = undefined;
    const analysed = (marks: Marks[]) => marks.map((m) => analyse(sent, polls, m, s.baselineMs));
    return [...rows("kill -9", analysed(killed), false), ...rows("SIGSTOP", analysed(stopped), true)];
  } finally {
    await load?.stop();
    await poller?.stop();
    for (const agent of agents.values()) {
      if (agent.child.pid !== undefined && agent.child.exitCode === null && agent.child.signalCode === null) process.kill(agent.child.pid, "SIGCONT");
    }
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function rows(what: string, phases: Phase[], hung: boolean): BenchResult[] {
  const errors = phases.reduce((n, p) => n + p.errors, 0);
  const requests = phases.reduce((n, p) => n + p.requests, 0);
  const perRoundErrors = phases.map((p) => p.errors);
  const seconds = (n: number) => (Number.isNaN(n) ? "n/a" : `${n.toFixed(1)} s`);
  const added = spread(phases.map((p) => p.addedMs));
  const noise = spread(phases.map((p) => p.floorMs));
  const last = spread(phases.map((p) => p.lastTryS));
  const node = hung ? "the hung node" : "the dead node";
  return [
    {
      suite: SUITE,
      name: `${what}: client errors (non-streaming), of the requests during the phase`,
      value: `${errors} of ${requests}`,
      range: `${Math.min(...perRoundErrors)}–${Math.max(...perRoundErrors)} per round`,
      goal: "0",
      met: errors === 0,
    },
    infoRow(SUITE, `${what}: tries on ${node} that failed and were retried`, phases.map((p) => p.retries), (n) => n.toFixed(0)),
    {
      suite: SUITE,
      name: `${what}: added latency of retried requests, slowest (upper bound, over the p50 before the signal)`,
      value: ms(added.median, true),
      range: `${ms(added.min, true)}–${ms(added.max, true)}`,
      goal: hung ? `none (timeouts: connect ${CONNECT_MS} ms, idle ${IDLE_MS} ms)` : "≤ 50 ms",
      met: hung || Number.isNaN(added.median) ? null : added.median <= 50,
    },
    {
      suite: SUITE,
      name: `${what}: the same measure on as many intervals before the signal, no failure there (the method's noise floor)`,
      value: ms(noise.median, true),
      range: `${ms(noise.min, true)}–${ms(noise.max, true)}`,
      goal: "",
      met: null,
    },
    {
      suite: SUITE,
      name: `${what}: time until no request goes to ${node} (its last failed try; polled every ${POLL_MS} ms)`,
      value: seconds(last.median),
      range: `${seconds(last.min)}–${seconds(last.max)}`,
      goal: hung ? "≤ 3.5 s" : "",
      met: hung && !Number.isNaN(last.median) ? last.median <= 3.5 : null,
    },
    infoRow(SUITE, `${what}: time until /cluster/status shows ${node} not ready (heartbeats every ${BEAT_MS} ms)`, phases.map((p) => p.notReadyS), seconds),
  ];
}

function analyse(sent: Sent[], polls: Poll[], { victim, t0, end }: Marks, baselineMs: number): Phase {
  const baseline = sent.filter((r) => r.ok && r.at >= t0 - baselineMs && r.done < t0).map((r) => r.done - r.at);
  const during = sent.filter((r) => r.at <= end && r.done >= t0);
  const before = [...polls].reverse().find((p) => p.at < t0);
  const inPhase = polls.filter((p) => p.at >= t0 && p.at <= end);
  const counted = (p: Poll | undefined) => p?.retries.get(victim) ?? 0;
  const final = counted(inPhase.at(-1));
  const retries = final - counted(before);
  const lastPoll = retries > 0 ? inPhase.find((p) => counted(p) === final) : undefined;
  const lastTryAt = lastPoll?.at ?? Number.NaN;
  // Each retry counted between two polls failed after the first was sent
  // and before the second was answered; the request it belongs to was open
  // then. Of the requests open in that interval, the k slowest (k: the
  // retries counted there) stand in for the retried ones: an upper bound.
  const slowestOpen = (from: number, to: number, k: number) =>
    sent.filter((r) => r.at <= to && r.done >= from).map((r) => r.done - r.at).sort((a, b) => b - a).slice(0, k);
  const floorEnd = t0 - baselineMs / 2;
  let slowest = Number.NaN;
  let floor = Number.NaN;
  let prev = before;
  for (const p of inPhase) {
    const k = counted(p) - counted(prev);
    if (k > 0 && prev) {
      for (const latency of slowestOpen(prev.start, p.at, k)) slowest = Number.isNaN(slowest) ? latency : Math.max(slowest, latency);
      for (const latency of slowestOpen(floorEnd - (p.at - prev.start), floorEnd, k)) floor = Number.isNaN(floor) ? latency : Math.max(floor, latency);
    }
    prev = p;
  }
  const p50 = quantile(baseline, 0.5);
  const notReady = inPhase.find((p) => p.states.get(victim)?.state !== "ready");
  return {
    errors: during.filter((r) => !r.ok).length,
    requests: during.length,
    retries,
    lastTryS: (lastTryAt - t0) / 1000,
    addedMs: slowest - p50,
    floorMs: floor - p50,
    notReadyS: notReady ? (notReady.at - t0) / 1000 : Number.NaN,
  };
}

/** The node that answered most requests in the last `windowMs` (of those still running): the one whose failure matters. */
function busiest(sent: Sent[], windowMs: number, among: ReadonlySet<string>): string {
  const since = performance.now() - windowMs;
  const answers = new Map<string, number>([...among].map((name) => [name, 0]));
  for (const r of sent) if (r.ok && r.done >= since && answers.has(r.node)) answers.set(r.node, (answers.get(r.node) ?? 0) + 1);
  return [...answers].sort((a, b) => b[1] - a[1])[0]?.[0] ?? NAMES[0];
}

/** Until the cluster has `n` ready nodes, none with an open circuit (a restarted node may still be half-open). */
async function waitForWhole(url: string, adminKey: string, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await fetchClusterStatus(url, adminKey);
    if (status.nodes.filter((node) => node.state === "ready" && node.circuit.state !== "open").length === n) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not get ${n} ready nodes back: ${JSON.stringify(status)}`);
    await sleep(50);
  }
}

interface Load {
  sent: Sent[];
  stop(): Promise<void>;
}

/**
 * Open loop: request i is due at t0 + i/rate whether or not earlier ones
 * were answered; its latency counts from that time. Runs until stopped;
 * requests still open then get a few seconds, and count as errors after.
 */
function startLoad(url: string, adminKey: string, ratePerS: number): Load {
  const pool = new Pool(url, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { "content-type": "application/json", authorization: `Bearer ${adminKey}` };
  const cancel = new AbortController();
  const sent: Sent[] = [];
  const pending = new Set<Promise<void>>();
  const interval = 1000 / ratePerS;
  const t0 = performance.now();
  let i = 0;
  let stopped = false;
  const one = async (at: number) => {
    const record: Sent = { at, done: Number.POSITIVE_INFINITY, ok: false, node: "" };
    sent.push(record);
    try {
      const res = await pool.request({ path: "/v1/chat/completions", method: "POST", headers, body: BODY, signal: cancel.signal });
      const text = await res.body.text();
      record.node = String(res.headers["x-flotilla-node"] ?? "");
      record.ok = res.statusCode === 200 && text.includes('"choices"');
      if (!record.ok) process.stderr.write(`failover: a request got ${res.statusCode}: ${text.slice(0, 200)}\n`);
    } catch (err) {
      if (!cancel.signal.aborted) process.stderr.write(`failover: a request failed: ${String(err)}\n`);
    }
    record.done = performance.now();
  };
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    for (; t0 + i * interval <= now; i++) {
      const p = one(t0 + i * interval);
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    setTimeout(tick, Math.max(0, t0 + i * interval - performance.now() - 0.5));
  };
  tick();
  return {
    sent,
    async stop() {
      stopped = true;
      const timer = setTimeout(() => cancel.abort(), 5_000);
      await Promise.all(pending);
      clearTimeout(timer);
      await pool.close();
    },
  };
}

interface Poller {
  polls: Poll[];
  /** One more poll now, after any in progress; resolves to when it ended. */
  now(): Promise<number>;
  stop(): Promise<void>;
}

/** /metrics (retries per node) and /cluster/status (health, circuit), every POLL_MS. */
function startPoller(url: string, adminKey: string): Poller {
  const polls: Poll[] = [];
  const headers = { authorization: `Bearer ${adminKey}` };
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  const poll = async () => {
    const start = performance.now();
    const [metrics, status] = await Promise.all([
      fetch(`${url}/metrics`, { headers }).then((r) => r.text()),
      fetchClusterStatus(url, adminKey),
    ]);
    const retries = new Map<string, number>();
    for (const match of metrics.matchAll(/^flotilla_retries_total\{([^}]*)\} (\S+)$/gm)) {
      const node = /(?:^|,)node="([^"]*)"/.exec(match[1] ?? "")?.[1] ?? "";
      retries.set(node, (retries.get(node) ?? 0) + Number(match[2]));
    }
    const states = new Map(status.nodes.map((n) => [n.name, { state: n.state, circuit: n.circuit.state }]));
    // Stamped when the answers are in: a counter seen is at most this old.
    polls.push({ start, at: performance.now(), retries, states });
  };
  const queue = () => (chain = chain.then(poll, poll));
  const loop = (async () => {
    while (!stopped) {
      await queue().catch((err: unknown) => process.stderr.write(`failover: polling failed: ${String(err)}\n`));
      await sleep(POLL_MS);
    }
  })();
  return {
    polls,
    now: async () => {
      await queue();
      return polls.at(-1)?.at ?? performance.now();
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
