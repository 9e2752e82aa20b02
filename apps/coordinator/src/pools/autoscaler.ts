// Which roamers to lend and which to take back (issue 17, docs/adr/0040).
// A pure function of (pools, demand, workers, roamers, now): the controller
// around it gathers the inputs each tick and turns the actions into
// nextRoamerState events. The caller passes only agents of the roamer pool as
// `roamers`; dedicated nodes never appear here, so nothing here can lend or
// release one.
//
// Words:
//   lent to P   roamers whose lending.pool is P, in ASSIGNED, PROVISIONING or RUNNING
//               (those this plan releases no longer count).
//   pending     those of them in ASSIGNED or PROVISIONING: coming, not working yet.
//   capacity    activeWorkers + pending, so a roamer on its way counts as help.
//
// Lending (at most one lend per pool and one per roamer in a plan):
//   backup    P has dedicated nodes, none ready, and nothing lent: lend at once.
//   overflow  demand > overflowFactor × capacity and nothing lent: lend at once.
//             (Capacity 0 with any demand overflows.)
//   burst     demand > overflowFactor × capacity, something lent, none of it
//             pending (no stacking while one provisions), the cooldown since
//             the last lend passed (anti-flap): lend one more.
//   No lend ever takes a pool past maxRoamersPerPool.
//   A candidate is IDLE, ready and lists one of the pool's templates; it gets
//   the first of the POOL's templates it lists. Candidates go by name; pools
//   needing a backup are served first, then the most backed-up
//   (demand / capacity, capacity 0 = infinite), ties by pool name.
//
// Releasing:
//   expired   a lent roamer with duration {minutes} whose time is up.
//   idle      a RUNNING "until-idle" roamer whose pool has no demand and left it
//             idle for the pool's releaseAfterMs, unless the pool's own nodes
//             are all down (it is the backup: kept). A lent "until-idle" roamer
//             of a pool no longer configured goes back at once.
//   "manual"  never released here: an operator lent it and an operator ends it.

import type { RoamerDuration, RoamerState } from "@flotilla/protocol";

export interface PoolInput {
  name: string;
  /** Its templates, in order of preference (a roamer is lent with the first one it lists). */
  templates: readonly string[];
  /** A roamer lent "until-idle" goes back after its pool left it idle this long. */
  releaseAfterMs: number;
  /** Queued jobs plus waiting synchronous requests for the pool. */
  demand: number;
  /** Nodes that take its work now: its ready dedicated nodes plus its RUNNING roamers. */
  activeWorkers: number;
  /** Its own nodes (home pool = this pool), and how many of them are ready. */
  dedicated: number;
  dedicatedReady: number;
  /** When a roamer was last lent to it (by anyone), for the cooldown; null if never. */
  lastLentAtMs: number | null;
}

export interface RoamerInput {
  name: string;
  state: RoamerState;
  /** Healthy and not drained: only these are lent. */
  ready: boolean;
  /** The templates its own configuration lists. */
  templates: readonly string[];
  lending: { pool: string; template: string; duration: RoamerDuration; lentAtMs: number } | null;
  /** The last time it had work in flight or its pool had demand; null: never since it was lent. */
  busyAtMs: number | null;
}

export interface AutoscalerSettings {
  /** Demand above this many times a pool's capacity lends a roamer (the issue says 2). */
  overflowFactor: number;
  /** Least time between two lends to one pool, but the first and a backup (anti-flap). */
  cooldownMs: number;
  /** Most roamers lent to one pool at once. */
  maxRoamersPerPool: number;
}

export const DEFAULT_AUTOSCALER_SETTINGS: AutoscalerSettings = { overflowFactor: 2, cooldownMs: 30_000, maxRoamersPerPool: 8 };

export type AutoscalerAction =
  | { type: "lend"; roamer: string; pool: string; template: string; reason: "overflow" | "burst" | "backup" }
  | { type: "release"; roamer: string; pool: string; reason: "idle" | "expired" };

export interface AutoscalerInput {
  pools: readonly PoolInput[];
  roamers: readonly RoamerInput[];
  nowMs: number;
  settings: AutoscalerSettings;
}

type LentRoamer = RoamerInput & { lending: NonNullable<RoamerInput["lending"]> };

/** Releases first (by roamer name), then lends in the order pools are served. */
export function planRoamers(input: AutoscalerInput): AutoscalerAction[] {
  const pools = new Map(input.pools.map((pool) => [pool.name, pool]));
  const byName = [...input.roamers].sort((a, b) => compare(a.name, b.name));
  // One action per roamer, even if the caller listed a name twice.
  const used = new Set<string>();
  const actions: AutoscalerAction[] = [];

  const stillLent: LentRoamer[] = [];
  for (const roamer of byName) {
    if (!isLent(roamer) || used.has(roamer.name)) continue;
    const reason = releaseReason(roamer, pools.get(roamer.lending.pool), input.nowMs);
    if (reason === null) {
      stillLent.push(roamer);
      continue;
    }
    used.add(roamer.name);
    actions.push({ type: "release", roamer: roamer.name, pool: roamer.lending.pool, reason });
  }

  const lentPools = new Set<string>();
  for (const { pool, reason } of poolsToLend(input.pools, stillLent, input.nowMs, input.settings)) {
    if (lentPools.has(pool.name)) continue;
    const pick = pickRoamer(pool, byName, used);
    if (pick === null) continue;
    used.add(pick.roamer);
    lentPools.add(pool.name);
    actions.push({ type: "lend", roamer: pick.roamer, pool: pool.name, template: pick.template, reason });
  }
  return actions;
}

function isLent(roamer: RoamerInput): roamer is LentRoamer {
  return roamer.lending !== null && (roamer.state === "ASSIGNED" || roamer.state === "PROVISIONING" || roamer.state === "RUNNING");
}

function releaseReason(roamer: LentRoamer, pool: PoolInput | undefined, nowMs: number): "idle" | "expired" | null {
  const { duration, lentAtMs } = roamer.lending;
  if (duration === "manual") return null;
  if (duration !== "until-idle") return lentAtMs + duration.minutes * 60_000 <= nowMs ? "expired" : null;
  // Its pool was removed from the configuration: nothing will ever need it there.
  if (pool === undefined) return "idle";
  if (roamer.state !== "RUNNING" || pool.demand > 0 || needsBackup(pool)) return null;
  return nowMs - (roamer.busyAtMs ?? lentAtMs) >= pool.releaseAfterMs ? "idle" : null;
}

interface Need {
  pool: PoolInput;
  reason: "overflow" | "burst" | "backup";
  ratio: number;
}

/** The pools that should get a roamer now, in the order they are served. */
function poolsToLend(pools: readonly PoolInput[], lent: readonly LentRoamer[], nowMs: number, settings: AutoscalerSettings): Need[] {
  const needs: Need[] = [];
  for (const pool of pools) {
    const mine = lent.filter((roamer) => roamer.lending.pool === pool.name);
    const pending = mine.filter((roamer) => roamer.state !== "RUNNING").length;
    const capacity = pool.activeWorkers + pending;
    const ratio = capacity === 0 ? (pool.demand > 0 ? Infinity : 0) : pool.demand / capacity;
    const reason = needFor(pool, mine.length, pending, capacity, nowMs, settings);
    if (reason !== null) needs.push({ pool, reason, ratio });
  }
  return needs.sort(
    (a, b) => Number(b.reason === "backup") - Number(a.reason === "backup") || compareRatio(b.ratio, a.ratio) || compare(a.pool.name, b.pool.name),
  );
}

function needFor(pool: PoolInput, lent: number, pending: number, capacity: number, nowMs: number, settings: AutoscalerSettings): Need["reason"] | null {
  if (lent >= settings.maxRoamersPerPool) return null;
  if (lent === 0 && needsBackup(pool)) return "backup";
  if (pool.demand <= settings.overflowFactor * capacity) return null;
  if (lent === 0) return "overflow";
  const cooled = pool.lastLentAtMs === null || nowMs - pool.lastLentAtMs >= settings.cooldownMs;
  return pending === 0 && cooled ? "burst" : null;
}

/** It has nodes of its own and none of them is ready: a roamer stands in. */
function needsBackup(pool: PoolInput): boolean {
  return pool.dedicated > 0 && pool.dedicatedReady === 0;
}

/** The first free roamer by name that can serve the pool, with the first of the POOL's templates (its preference) that it lists. */
function pickRoamer(pool: PoolInput, byName: readonly RoamerInput[], used: ReadonlySet<string>): { roamer: string; template: string } | null {
  for (const roamer of byName) {
    if (used.has(roamer.name) || roamer.state !== "IDLE" || !roamer.ready) continue;
    const template = pool.templates.find((name) => roamer.templates.includes(name));
    if (template !== undefined) return { roamer: roamer.name, template };
  }
  return null;
}

// Infinity - Infinity is NaN, so ratios are compared, not subtracted.
function compareRatio(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
