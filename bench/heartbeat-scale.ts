// Issue 5, item 6: what heartbeats cost the coordinator at 1,000 and 10,000
// nodes. A real `flotilla coordinator` (heartbeat interval 5 s) and simulated
// agents in this process: each joins once through POST /cluster/join with a
// join token, as `flotilla agent --join` does, then heartbeats with its own
// node credential over its own keep-alive connection, each beat sent an
// interval after the previous one was answered (the agent's heartbeat loop),
// first beats spread evenly over one interval. No models run: each agent
// reports one loaded model with idle slots. The agents' URLs point at
// loopback ports nothing listens on; the coordinator never calls them here.
//
// Warm-up: until every agent's first beat (which opens its connection) is
// answered, then one more interval. Then consecutive windows of one interval
// (two in full runs) each give: the coordinator's CPU time over the window's
// wall time (all its threads, /proc/PID/task/*/schedstat) as a share of one
// core, and the p50/p99 of the heartbeat round trips sent in it (from
// sending to the whole answer read, client side, so the load generator's own
// lag counts: its CPU share and event-loop delay are shown beside them).
// Rows show the median of the windows with their min–max. Each size gets a
// fresh coordinator, whose CPU share before any join is shown for context.
// Goal: ≤ 15% of a core at 1,000 nodes; 10,000 has none.
import { readFile } from "node:fs/promises";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Client, Pool } from "undici";
import { detectHardware } from "@flotilla/agent";
import { PROTOCOL_VERSION, type AgentLoad } from "@flotilla/protocol";
import { startFlotilla, testAdminKey, type FlotillaProcess } from "@flotilla/testkit";
import { cpuNs, pidOf } from "./processes.ts";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";
import { ms, quantile, spread } from "./stats.ts";

const SUITE = "heartbeats";
const SETTINGS = {
  smoke: { sizes: [50], intervalMs: 500, windows: 1, windowIntervals: 1, idleMs: 200 },
  quick: { sizes: [1_000, 10_000], intervalMs: 5_000, windows: 3, windowIntervals: 1, idleMs: 2_000 },
  full: { sizes: [1_000, 10_000], intervalMs: 5_000, windows: 5, windowIntervals: 2, idleMs: 5_000 },
} as const;
const GOAL_NODES = 1_000;
const GOAL_CPU_PERCENT = 15;
/** Joins in flight at once. */
const JOIN_CONCURRENCY = 16;
/** A join token takes at most this many uses (POST /cluster/tokens). */
const TOKEN_USES_MAX = 10_000;
const JSON_HEADERS = { "content-type": "application/json" };

interface Window {
  cpuPercent: number;
  /** This process's (the simulated agents') CPU share and event-loop delay p99, ms: its lag shows in the round trips. */
  ownCpuPercent: number;
  ownDelayP99Ms: number;
  latencies: number[];
  failed: number;
}

interface SizeResult {
  nodes: number;
  /** Before any node joined. */
  idleCpuPercent: number;
  joinsPerS: number;
  windows: Window[];
  rssBytes: number;
  /** Beats that failed while the agents opened their connections, before the windows. */
  warmFailed: number;
  /** Agents with no beat answered by the end of the warm-up. */
  unanswered: number;
}

export async function heartbeatScale(mode: Mode): Promise<BenchResult[]> {
  const s = SETTINGS[mode];
  const measured: SizeResult[] = [];
  for (const nodes of s.sizes) measured.push(await oneSize(nodes, s));
  return measured.flatMap((m) => rows(m, s.intervalMs));
}

async function oneSize(nodes: number, settings: (typeof SETTINGS)[Mode]): Promise<SizeResult> {
  const { intervalMs, windows, windowIntervals, idleMs } = settings;
  const adminKey = testAdminKey(`bench_${process.pid}_heartbeat`);
  // Every simulated client comes from 127.0.0.1, each on its own connection: far more
  // than the per-address limit a real client gets (docs/adr/0023).
  const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_DISCOVERY: "explicit", FLOTILLA_MAX_CONNECTIONS_PER_IP: "1000000" };
  let coordinator: FlotillaProcess | undefined;
  const agents: SimulatedAgent[] = [];
  try {
    coordinator = await startFlotilla({ command: "coordinator", env, args: ["--heartbeat-interval-ms", String(intervalMs)] });
    const url = coordinator.url;
    const pid = pidOf(coordinator.child);
    const idleCpuPercent = await cpuPercent(pid, idleMs);

    // Joins, JOIN_CONCURRENCY at a time, each with a use of a join token.
    const tokens: string[] = [];
    for (let left = nodes; left > 0; left -= TOKEN_USES_MAX) tokens.push(await createToken(url, adminKey, Math.min(left, TOKEN_USES_MAX)));
    const hardware = await detectHardware({ modelDir: "." });
    const joinPool = new Pool(url, { connections: JOIN_CONCURRENCY, pipelining: 1 });
    const joinStart = performance.now();
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: JOIN_CONCURRENCY }, async () => {
          for (let i = next++; i < nodes; i = next++) {
            const agentUrl = `http://127.0.0.1:${20_000 + (i % 40_000)}`;
            const res = await joinPool.request({
              path: "/cluster/join",
              method: "POST",
              headers: { ...JSON_HEADERS, authorization: `Bearer ${tokens[Math.floor(i / TOKEN_USES_MAX)] ?? ""}` },
              body: JSON.stringify({ protocolVersion: PROTOCOL_VERSION, name: `sim-${i}`, tier: (i % 3) as 0 | 1 | 2, pool: "default", agentUrl, hardware, load: loadOf(i) }),
            });
            const text = await res.body.text();
            if (res.statusCode !== 200) throw new Error(`join ${i} failed: ${res.statusCode} ${text}`);
            const credential = (JSON.parse(text) as { nodeCredential: string }).nodeCredential;
            agents[i] = new SimulatedAgent(url, credential, JSON.stringify({ protocolVersion: PROTOCOL_VERSION, agentUrl, load: loadOf(i) }), intervalMs);
          }
        }),
      );
    } finally {
      await joinPool.close();
    }
    const joinsPerS = (nodes * 1000) / (performance.now() - joinStart);

    // Heartbeats, first ones spread over one interval; then the warm-up.
    agents.forEach((a, i) => a.start((i * intervalMs) / nodes));
    const warmDeadline = performance.now() + intervalMs * 4;
    await sleep(intervalMs);
    while (agents.some((a) => !a.answeredOnce) && performance.now() < warmDeadline) await sleep(intervalMs / 20);
    const warmFailed = agents.reduce((n, a) => n + a.failed, 0);
    const unanswered = agents.filter((a) => !a.answeredOnce).length;
    await sleep(intervalMs);
    const measuredWindows: Window[] = [];
    for (let w = 0; w < windows; w++) {
      for (const a of agents) a.reset();
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const ownBefore = process.cpuUsage();
      const ownStart = performance.now();
      const cpu = await cpuPercent(pid, intervalMs * windowIntervals);
      const own = process.cpuUsage(ownBefore);
      delay.disable();
      measuredWindows.push({
        cpuPercent: cpu,
        ownCpuPercent: ((own.user + own.system) / 1000 / (performance.now() - ownStart)) * 100,
        ownDelayP99Ms: delay.percentile(99) / 1e6,
        latencies: agents.flatMap((a) => a.latencies),
        failed: agents.reduce((n, a) => n + a.failed, 0),
      });
    }
    const rssBytes = await vmRss(pid);
    return { nodes, idleCpuPercent, joinsPerS, windows: measuredWindows, rssBytes, warmFailed, unanswered };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await coordinator?.stop();
  }
}

function rows(m: SizeResult, intervalMs: number): BenchResult[] {
  const n = m.nodes.toLocaleString("en-US");
  const label = `${n} nodes, 1 beat / ${intervalMs / 1000} s each (${((m.nodes * 1000) / intervalMs).toFixed(0)}/s)`;
  const cpu = spread(m.windows.map((w) => w.cpuPercent));
  const percent = (v: number) => `${v.toFixed(1)}%`;
  const judged = m.nodes === GOAL_NODES;
  const beats = m.windows.reduce((k, w) => k + w.latencies.length + w.failed, 0);
  const failed = m.windows.reduce((k, w) => k + w.failed, 0);
  return [
    {
      suite: SUITE,
      name: `${label}: coordinator CPU, share of one core`,
      value: percent(cpu.median),
      range: `${percent(cpu.min)}–${percent(cpu.max)}`,
      goal: judged ? `≤ ${GOAL_CPU_PERCENT}%` : "",
      met: judged ? cpu.median <= GOAL_CPU_PERCENT : null,
    },
    infoRow(SUITE, `${label}: heartbeat round trip p50`, m.windows.map((w) => quantile(w.latencies, 0.5)), ms),
    infoRow(SUITE, `${label}: heartbeat round trip p99`, m.windows.map((w) => quantile(w.latencies, 0.99)), ms),
    {
      suite: SUITE,
      name: `${label}: heartbeats not answered 200 (before the windows, opening connections: ${m.warmFailed}${m.unanswered > 0 ? `; ${m.unanswered} agents never answered` : ""})`,
      value: `${failed} of ${beats}`,
      range: "",
      goal: "",
      met: null,
    },
    infoRow(SUITE, `${label}: the simulated agents' process (the load generator), CPU`, m.windows.map((w) => w.ownCpuPercent), percent),
    infoRow(SUITE, `${label}: the simulated agents' process, event-loop delay p99`, m.windows.map((w) => w.ownDelayP99Ms), ms),
    infoRow(SUITE, `${n} nodes: the same coordinator before any node joined, CPU`, [m.idleCpuPercent], percent),
    infoRow(SUITE, `${n} nodes: joins, ${JOIN_CONCURRENCY} at a time`, [m.joinsPerS], (v) => `${v.toFixed(0)}/s`),
    infoRow(SUITE, `${n} nodes: coordinator RSS after the windows`, [m.rssBytes], (v) => `${(v / 2 ** 20).toFixed(1)} MB`),
  ];
}

/** One agent's heartbeat loop: beat, wait for the answer, wait an interval, beat again. */
class SimulatedAgent {
  readonly #client: Client;
  readonly #headers: Record<string, string>;
  readonly #body: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;
  latencies: number[] = [];
  failed = 0;
  answeredOnce = false;
  /** Only beats sent from here on count. */
  #since = 0;

  constructor(url: string, credential: string, body: string, intervalMs: number) {
    // One connection per agent, kept alive between beats, as each agent process keeps its own.
    this.#client = new Client(url, { pipelining: 1, keepAliveTimeout: 60_000 });
    this.#headers = { ...JSON_HEADERS, authorization: `Bearer ${credential}` };
    this.#body = body;
    this.#intervalMs = intervalMs;
  }

  start(delayMs: number): void {
    this.#timer = setTimeout(() => this.#tick(), delayMs);
  }

  /** Starts counting afresh: beats sent from now on. */
  reset(): void {
    this.latencies = [];
    this.failed = 0;
    this.#since = performance.now();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#inFlight = this.#beat().finally(() => {
      this.#inFlight = undefined;
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#intervalMs);
    });
  }

  async #beat(): Promise<void> {
    const start = performance.now();
    try {
      const res = await this.#client.request({ path: "/cluster/heartbeat", method: "POST", headers: this.#headers, body: this.#body });
      await res.body.arrayBuffer();
      if (res.statusCode === 200) this.answeredOnce = true;
      if (start < this.#since) return;
      if (res.statusCode === 200) this.latencies.push(performance.now() - start);
      else this.failed++;
    } catch {
      if (start >= this.#since) this.failed++;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
    await this.#client.destroy();
  }
}

/** Node i's load: one model loaded, its slots idle. */
function loadOf(i: number): AgentLoad {
  return {
    models: [{ id: i % 2 === 0 ? "llama-3.2-3b" : "qwen2.5-7b", contextSize: 8_192, loadedAtMs: 1_700_000_000_000, slots: { total: 4, busy: 0, queued: 0 }, capabilities: ["chat"] }],
    inFlight: 0,
    cpuPercent: 2,
    rssBytes: 300 * 2 ** 20,
    memoryAvailableBytes: 4 * 2 ** 30,
    agentVersion: "bench",
  };
}

async function createToken(url: string, adminKey: string, uses: number): Promise<string> {
  const res = await fetch(`${url}/cluster/tokens`, {
    method: "POST",
    headers: { ...JSON_HEADERS, authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ uses, ttlMs: 3_600_000 }),
  });
  if (res.status !== 201) throw new Error(`POST /cluster/tokens: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** The process's CPU time over `ms` of wall time, as a percentage of one core. */
async function cpuPercent(pid: number, ms: number): Promise<number> {
  const before = await cpuNs(pid);
  const start = performance.now();
  await sleep(ms);
  const used = (await cpuNs(pid)) - before;
  return (used / 1e6 / (performance.now() - start)) * 100;
}

async function vmRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN) * 1024;
}
