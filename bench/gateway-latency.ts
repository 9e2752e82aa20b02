// Issue 5, item 1: what a non-streaming request costs through each proxy.
// Every variant gets the same request; direct goes to the mock, the others
// through nginx, the Node floor or flotilla (which, as with every agentless
// node, asks the mock to stream and assembles the answer: that work is part
// of its cost). Rounds alternate the variants (direct, nginx, floor, flotilla,
// direct, …); each round gives each variant's p50/p99, and the added latency
// is the variant's minus direct's in the same round. Rows show the median of
// the rounds with their min–max.
import type { Pool } from "undici";
import { closedLoop, openLoop, pool, sequential } from "./load.ts";
import { cpuNs } from "./processes.ts";
import type { BenchResult, Mode } from "./report.ts";
import type { Rig, Variant, VariantName } from "./rig.ts";
import { addedOver, infoRow, proxiesRow, ratioRow, type PerRound } from "./rows.ts";
import { ms, quantile } from "./stats.ts";

const SUITE = "gateway";
/** windowMs: each open-loop run; graceMs: how long its last requests may take before they count as not answered. */
const SETTINGS = {
  smoke: { rounds: 1, sequential: 50, windowMs: 250, graceMs: 300, probeMs: 300, warm: 50 },
  quick: { rounds: 5, sequential: 400, windowMs: 1_200, graceMs: 1_000, probeMs: 1_500, warm: 500 },
  full: { rounds: 10, sequential: 1_000, windowMs: 3_000, graceMs: 2_000, probeMs: 4_000, warm: 2_000 },
} as const;
/** Arrival rates, as shares of what nginx sustains. */
const SHARES = [0.25, 0.5, 0.75];

interface Sample {
  latencies: number[];
  /** The proxy's CPU time per answered request, µs (NaN for direct). */
  cpuUs: number;
}
type Run = (p: Pool) => Promise<{ latencies: number[]; answered: number }>;

export async function gatewayLatency(rig: Rig, mode: Mode): Promise<BenchResult[]> {
  const s = SETTINGS[mode];
  const pools = new Map(rig.variants.map((v) => [v.name, pool(v.url, 128)]));
  const poolOf = (v: Variant) => pools.get(v.name) ?? pool(v.url, 1);
  try {
    // Warm-up: connections open, JIT compiled, pools filled, nothing kept.
    for (const v of rig.variants) {
      await sequential(poolOf(v), s.warm);
      await closedLoop(poolOf(v), 16, s.probeMs / 4);
    }
    const results: BenchResult[] = [];
    const one = await rounds(rig, s.rounds, poolOf, async (p) => {
      const latencies = await sequential(p, s.sequential);
      return { latencies, answered: latencies.length };
    });
    results.push(...loadPoint(rig, "1 at a time", one, true));

    // What each proxy sustains: a closed loop of 16 connections, once. The
    // open-loop rates are shares of nginx's; the Node floor stands in (and
    // says so) when nginx could not be installed.
    const sustains: PerRound = {};
    for (const v of rig.variants) sustains[v.name] = [await closedLoop(poolOf(v), 16, s.probeMs)];
    const reference = sustains.nginx ? "nginx" : "floor";
    const capacity = sustains[reference]?.[0] ?? 0;
    const perS = (n: number) => `${n.toFixed(0)}/s`;
    results.push(
      infoRow(SUITE, "closed loop of 16 connections: direct (the mock alone)", sustains.direct ?? [], perS),
      proxiesRow(SUITE, `closed loop of 16 connections, requests answered (the rates below are shares of ${reference}'s)`, sustains, perS),
    );

    for (const share of SHARES) {
      const rate = Math.max(10, Math.round(capacity * share));
      const samples = await rounds(rig, s.rounds, poolOf, (p) => openLoop(p, rate, s.windowMs, s.graceMs));
      results.push(...loadPoint(rig, `open loop ${rate} req/s (${share * 100}%)`, samples, share === 0.5));
    }
    return results;
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
}

/** Rounds of `run` on every variant in turn, with the proxy's CPU time read around each. */
async function rounds(rig: Rig, n: number, poolOf: (v: Variant) => Pool, run: Run): Promise<Map<VariantName, Sample[]>> {
  const samples = new Map<VariantName, Sample[]>(rig.variants.map((v) => [v.name, []]));
  for (let r = 0; r < n; r++) {
    for (const v of rig.variants) {
      const before = v.pid === undefined ? 0 : await cpuNs(v.pid);
      const { latencies, answered } = await run(poolOf(v));
      const cpuUs = v.pid === undefined ? Number.NaN : (await cpuNs(v.pid)) - before;
      samples.get(v.name)?.push({ latencies, cpuUs: cpuUs / 1000 / Math.max(1, answered) });
    }
  }
  return samples;
}

function loadPoint(rig: Rig, label: string, samples: Map<VariantName, Sample[]>, withCpu: boolean): BenchResult[] {
  const perRound = (f: (s: Sample) => number): PerRound =>
    Object.fromEntries([...samples].map(([name, list]) => [name, list.map(f)]));
  const p50 = perRound((s) => quantile(s.latencies, 0.5));
  const p99 = perRound((s) => quantile(s.latencies, 0.99));
  const direct50 = p50.direct ?? [];
  const direct99 = p99.direct ?? [];
  const added50 = addedOver(direct50, p50);
  const added99 = addedOver(direct99, p99);
  const noNginx = rig.nginxMissing ?? "nginx unavailable";
  const rows = [
    infoRow(SUITE, `${label}: direct p50`, direct50, ms),
    infoRow(SUITE, `${label}: direct p99`, direct99, ms),
    proxiesRow(SUITE, `${label}: added p50`, added50, (n) => ms(n, true), { text: "flotilla < 0.8 ms", ok: (f) => f < 0.8 }),
    proxiesRow(SUITE, `${label}: added p99`, added99, (n) => ms(n, true)),
    ratioRow(SUITE, `${label}: flotilla ÷ node floor, added p50`, added50.flotilla, added50.floor, 1.3),
    ratioRow(SUITE, `${label}: flotilla ÷ nginx, added p50`, added50.flotilla, added50.nginx, 2, noNginx),
  ];
  if (withCpu) {
    const cpu = perRound((s) => s.cpuUs);
    const us = (n: number) => `${n.toFixed(0)} µs`;
    rows.push(
      proxiesRow(SUITE, `${label}: proxy CPU per request`, cpu, us),
      ratioRow(SUITE, `${label}: flotilla ÷ node floor, CPU per request`, cpu.flotilla, cpu.floor, 1.25),
    );
  }
  return rows;
}
