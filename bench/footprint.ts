// Footprint: resident memory of an idle agent serving no model, and of an
// idle coordinator that has 100 registered nodes heartbeating to it (real
// joins and real HTTP heartbeats from this process, no models). Goals from
// the benchmarks issue: agent <= 60 MB, coordinator <= 120 MB.
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { detectHardware } from "@flotilla/agent";
import { PROTOCOL_VERSION, type AgentLoad } from "@flotilla/protocol";
import { runCli, startFlotilla, testAdminKey, type FlotillaProcess } from "@flotilla/testkit";
import type { BenchResult, Mode } from "./report.ts";
import { pidOf } from "./processes.ts";

const MB = 1024 * 1024;

/**
 * VmRSS of a process, and RssAnon: the part that is the process's own. The
 * rest is mostly Node's executable mapped from disk, shared by every Node
 * process and reclaimable; the goals are on RSS all the same.
 */
async function rssBytes(pid: number): Promise<{ rss: number; anon: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match) throw new Error(`no ${name} for ${pid}`);
    return Number(match[1]) * 1024;
  };
  return { rss: field("VmRSS"), anon: field("RssAnon") };
}

/** The median of a few samples taken while the process sits idle. */
async function idleRss(pid: number, samples: number, gapMs: number): Promise<Sampled> {
  const values: Array<{ rss: number; anon: number }> = [];
  for (let i = 0; i < samples; i++) {
    await sleep(gapMs);
    values.push(await rssBytes(pid));
  }
  values.sort((a, b) => a.rss - b.rss);
  const median = values[Math.floor(values.length / 2)] ?? { rss: 0, anon: 0 };
  return { median: median.rss, medianAnon: median.anon, min: values[0]?.rss ?? 0, max: values.at(-1)?.rss ?? 0 };
}

interface Sampled {
  median: number;
  /** RssAnon of the median sample. */
  medianAnon: number;
  min: number;
  max: number;
}

const idleLoad: AgentLoad = { models: [], inFlight: 0, cpuPercent: 0, rssBytes: 0, memoryAvailableBytes: 0, agentVersion: "bench" };

export async function footprint(mode: Mode): Promise<BenchResult[]> {
  const settleMs = mode === "smoke" ? 500 : mode === "quick" ? 3_000 : 10_000;
  const nodes = mode === "smoke" ? 10 : 100;
  const beatMs = 1_000;
  const adminKey = testAdminKey(`bench_${process.pid}_footprint`);
  const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_DISCOVERY: "explicit", FLOTILLA_HEARTBEAT_INTERVAL_MS: String(beatMs) };
  const started: FlotillaProcess[] = [];
  try {
    const coordinator = await startFlotilla({ command: "coordinator", env });
    started.push(coordinator);
    const cli = { ...env, FLOTILLA_URL: coordinator.url };
    const token = await runCli(["token", "create", "--uses", String(nodes + 1)], cli);
    if (token.code !== 0) throw new Error(token.stderr);
    const joinToken = token.stdout.trim();

    const agent = await startFlotilla({ command: "agent", env, args: ["--join", coordinator.url, "--token", joinToken, "--name", "bench-agent"] });
    started.push(agent);

    // Simulated agents: real joins and heartbeats, each with its own credential.
    const hardware = await detectHardware({ modelDir: "." });
    const credentials: string[] = [];
    for (let i = 0; i < nodes; i++) {
      const res = await fetch(`${coordinator.url}/cluster/join`, {
        method: "POST",
        headers: { authorization: `Bearer ${joinToken}`, "content-type": "application/json" },
        body: JSON.stringify({
          protocolVersion: PROTOCOL_VERSION,
          name: `sim-${i}`,
          tier: 1,
          pool: "default",
          agentUrl: `http://127.0.0.1:${20_000 + i}`,
          hardware,
          load: idleLoad,
        }),
      });
      if (res.status !== 200) throw new Error(`join failed: ${res.status} ${await res.text()}`);
      credentials.push(((await res.json()) as { nodeCredential: string }).nodeCredential);
    }
    const beating = new AbortController();
    const beats = (async () => {
      while (!beating.signal.aborted) {
        await Promise.all(
          credentials.map((credential, i) =>
            fetch(`${coordinator.url}/cluster/heartbeat`, {
              method: "POST",
              headers: { authorization: `Bearer ${credential}`, "content-type": "application/json" },
              body: JSON.stringify({ protocolVersion: PROTOCOL_VERSION, agentUrl: `http://127.0.0.1:${20_000 + i}`, load: idleLoad }),
            }).then((r) => r.arrayBuffer()),
          ),
        );
        await sleep(beatMs, undefined, { signal: beating.signal }).catch(() => undefined);
      }
    })();

    const samples = mode === "smoke" ? 2 : 5;
    const agentRss = await idleRss(pidOf(agent.child), samples, settleMs / samples);
    const coordinatorRss = await idleRss(pidOf(coordinator.child), samples, settleMs / samples);
    beating.abort();
    await beats;
    return [
      absolute("agent idle RSS, no model", agentRss, 60 * MB),
      absolute(`coordinator RSS, ${nodes} nodes heartbeating`, coordinatorRss, 120 * MB),
    ];
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}

function absolute(name: string, rss: Sampled, goal: number): BenchResult {
  const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
  return {
    suite: "footprint",
    name,
    value: `${mb(rss.median)} (own ${mb(rss.medianAnon)})`,
    range: `${mb(rss.min)}–${mb(rss.max)}`,
    goal: `≤ ${mb(goal)}`,
    met: rss.median <= goal,
  };
}
