// The router: (request, cluster snapshot) → the node to use, the ranked
// candidates it weighed, and why. Pure: no I/O, no clock, randomness passed
// in, state owned by the caller (the affinity map, live in-flight counts).
//
// The decision, in order:
// 1. The model: nodes serving the requested name (an alias, or "auto" for any
//    model; no name means the snapshot's default model, else "auto").
// 2. Session affinity: the session's node, when it is ready, serves the
//    model, fits the context and lies in the forced tier (if one is forced),
//    keeps the conversation, so its prompt cache is reused.
// 3. Tiers in preference order: SIMPLE 0,1,2; MEDIUM 1,2,0; COMPLEX 2,1,0; a
//    forced tier alone, or first and then the class's order (fallback). The
//    first tier with a ready node that fits the context wins. Nodes whose
//    context window is smaller than prompt + max_tokens are never candidates.
// 4. Within the tier: a local node with a free slot when prefer_local is on;
//    otherwise the better of two nodes sampled at random (power of two
//    choices), by score = weight / (1 + outstanding / slots); exact ties go
//    to the lower measured time to first token, then total time. Tiers of
//    up to `scanLimit` fitting nodes are scanned whole instead (exact, and as
//    cheap), with random tie-breaks so a stale snapshot does not herd.
// 5. Spill up: when that node has no free slot, a higher tier later in the
//    order with a free slot takes the request instead (a bigger node
//    answering a small question wastes capacity but never gives a worse
//    answer; a smaller one could). Not when a tier is forced.
// 6. Suspect nodes (a missed heartbeat or two) only when no ready node can
//    take the request, same order; the reason says so. Down and drained
//    nodes never.
// 7. Nodes whose circuit is open (`ejected`, dispatch/circuit-breaker.ts)
//    are skipped like excluded ones, unless no other node can take the
//    request: the last node able to serve a model is never ejected.
// The cost does not grow with the fleet: map lookups, one binary search per
// tier tried, and two samples (or a scan of at most scanLimit nodes).
import type { Capability, Tier } from "@flotilla/protocol";
import type { Classification, ComplexityClass } from "./classify.ts";
import { fitting, resolveModel, type ClusterSnapshot, type ModelGroup, type Placement } from "./snapshot.ts";

export interface ForcedTier {
  tier: Tier;
  /** True: other tiers (in the class's order) when the forced one has no node for the request. */
  fallback: boolean;
}

export interface RouteRequest {
  /** As the client sent it; undefined or "" for none. */
  model: string | undefined;
  /** What the node's model must be able to do; default chat. */
  capability?: Capability;
  /** Estimated (tokens.ts). */
  promptTokens: number;
  maxTokens: number | undefined;
  classification: Classification;
  forceTier?: ForcedTier;
  /** A conversation id (the `user` field, X-Flotilla-Session). */
  session?: string;
  /** Nodes not to choose: this request's earlier, failed tries. */
  exclude?: ReadonlySet<string>;
}

export interface RouteOptions {
  /** Prefer a node on the coordinator's machine within the chosen tier while it has a free slot. */
  preferLocal?: boolean;
  /** The node a session last used (the caller owns the map and its eviction). */
  affinity?: (session: string) => string | undefined;
  /** Live requests in flight on a node as the coordinator counts them; undefined: the snapshot's slots. */
  outstanding?: (node: string) => number | undefined;
  /** Tokens to leave for the answer when max_tokens is unset. Default COMPLETION_RESERVE_TOKENS. */
  completionReserveTokens?: number;
  /** Use suspect nodes when no ready one can take the request. Default true. */
  suspectAsLastResort?: boolean;
  /** Default true; see step 5 above. */
  spillUp?: boolean;
  /** Tiers with at most this many fitting nodes are scanned whole. Default 8. */
  scanLimit?: number;
  /** Nodes whose circuit is open → why; used only when no other node can take the request. */
  ejected?: ReadonlyMap<string, string>;
}

export interface RouteCandidate {
  node: string;
  tier: Tier;
  /** The model id on that node. */
  model: string;
  /** Higher is better: weight / (1 + outstanding / slots). */
  score: number;
  reason: string;
}

/** Why no node: the gateway's status code (404, 503, 400, 503, 400). */
export type Unavailable = "unknown-model" | "no-healthy-node" | "context-too-long" | "tier-unavailable" | "not-capable";

export interface RouteDecision {
  class: ComplexityClass;
  tier: Tier | null;
  node: string | null;
  /** The model id to send the node (an alias or "auto" resolved). */
  model: string | null;
  /** The chosen node first, then the others weighed, best first. */
  candidates: RouteCandidate[];
  reason: string;
  /** The session's node was kept. */
  affinity: boolean;
  promptTokens: number;
  /** Prompt + max_tokens (or the reserve): the smallest context window that may take it. */
  neededTokens: number;
  /** Set when node is null. */
  unavailable?: Unavailable;
  /** The chosen node has no free slot by its own count (agents; agentless servers are never full). */
  full: boolean;
}

/** Room for a short answer when the client set no max_tokens. */
export const COMPLETION_RESERVE_TOKENS = 16;
export const DEFAULT_SCAN_LIMIT = 8;

const ORDER: Record<ComplexityClass, readonly Tier[]> = {
  SIMPLE: [0, 1, 2],
  MEDIUM: [1, 2, 0],
  COMPLEX: [2, 1, 0],
};

/** The class whose order starts with each tier: a forced tier falls back the way that class does. */
const CLASS_OF_TIER: Record<Tier, ComplexityClass> = { 0: "SIMPLE", 1: "MEDIUM", 2: "COMPLEX" };

/** The published order in every case: a forced tier N falls back as the class that starts at N. */
export function tierOrder(cls: ComplexityClass, forced?: ForcedTier): readonly Tier[] {
  if (!forced) return ORDER[cls];
  if (!forced.fallback) return [forced.tier];
  return ORDER[CLASS_OF_TIER[forced.tier]];
}

/** A tier from a header or body field: 0, 1, 2 or "0", "1", "2"; undefined for anything else. */
export function parseTier(value: unknown): Tier | undefined {
  if (value === 0 || value === "0") return 0;
  if (value === 1 || value === "1") return 1;
  if (value === 2 || value === "2") return 2;
  return undefined;
}

interface Context {
  readonly needed: number;
  readonly exclude: ReadonlySet<string> | undefined;
  readonly ejected: ReadonlyMap<string, string> | undefined;
  readonly outstanding: ((node: string) => number | undefined) | undefined;
  readonly scanLimit: number;
  readonly random: () => number;
}

interface Rated {
  readonly p: Placement;
  readonly outstanding: number;
  readonly score: number;
}

interface TierPick {
  readonly best: Rated;
  /** Everything weighed, best first. */
  readonly weighed: readonly Rated[];
  readonly how: string;
}

export function route(
  request: RouteRequest,
  snapshot: ClusterSnapshot,
  options: RouteOptions,
  random: () => number,
): RouteDecision {
  const cls = request.classification.class;
  const neededTokens = request.promptTokens + (request.maxTokens ?? options.completionReserveTokens ?? COMPLETION_RESERVE_TOKENS);
  const base = { class: cls, promptTokens: request.promptTokens, neededTokens };
  const classNote = request.forceTier
    ? `${cls}, tier ${request.forceTier.tier} forced ${request.forceTier.fallback ? "with" : "without"} fallback`
    : `${cls} (${request.classification.reason})`;
  const capability = request.capability ?? "chat";
  const { name, group } = resolveModel(snapshot, request.model, capability);
  if (!group) {
    const known = snapshot.knownModels.get(name);
    if (known?.has(capability)) return none(base, "no-healthy-node", `every node serving '${name}' for ${capability} is down or drained`);
    if (known) return none(base, "not-capable", `no node serves '${name}' for ${capability}`);
    return none(base, "unknown-model", `no node serves '${name}'`);
  }
  const ctx: Context = {
    needed: neededTokens,
    exclude: request.exclude,
    ejected: options.ejected !== undefined && options.ejected.size > 0 ? options.ejected : undefined,
    outstanding: options.outstanding,
    scanLimit: options.scanLimit ?? DEFAULT_SCAN_LIMIT,
    random,
  };
  const order = tierOrder(cls, request.forceTier);
  const notes: string[] = [`${classNote}; model '${name}'; needs ${neededTokens} tokens; tiers ${order.join(", ")}`];

  // Session affinity.
  if (request.session !== undefined && options.affinity) {
    const kept = options.affinity(request.session);
    if (kept !== undefined) {
      const p = group.byNode.get(kept);
      const problem = affinityProblem(p, request, ctx);
      if (p && problem === undefined) {
        const rated = rate(p, ctx);
        return {
          ...base, tier: p.tier, node: p.name, model: p.model, affinity: true, full: isFull(rated),
          candidates: [candidate(rated, "the session's node (affinity)")],
          reason: `${notes[0] ?? ""}; kept the session on ${kept}`,
        };
      }
      notes.push(`session node ${kept} not kept: ${problem ?? "unknown"}`);
    }
  }

  const decided = choose(base, group, order, request, options, ctx, notes);
  // The map holds every blocked node of the cluster: name (and retry) only this model's, not already tried.
  const ejected = decided || !ctx.ejected ? [] : [...ctx.ejected.keys()].filter((n) => group.byNode.has(n) && !request.exclude?.has(n));
  if (decided || ejected.length === 0) return decided ?? none(base, unavailableWhy(group, request, ctx), notes.join("; "));
  // Every other node failed: the last ones able to serve are never ejected.
  notes.push(`circuit open on ${ejected.join(", ")}, tried anyway: no other node can take it`);
  return choose(base, group, order, request, options, { ...ctx, ejected: undefined }, notes)
    ?? none(base, unavailableWhy(group, request, ctx), notes.join("; "));
}

/** Steps 3–6 over the nodes ctx allows; undefined when none can take the request. */
function choose(
  base: Base,
  group: ModelGroup,
  order: readonly Tier[],
  request: RouteRequest,
  options: RouteOptions,
  ctx: Context,
  notes: string[],
): RouteDecision | undefined {
  // Ready nodes, tier by tier.
  for (let i = 0; i < order.length; i++) {
    const tier = order[i] as Tier;
    const index = group.tiers[tier];
    const local = options.preferLocal ? pickLocal(index.readyLocal, ctx) : undefined;
    if (local) {
      return chosen(base, tier, local, [local], `${notes.join("; ")}; tier ${tier}: ${local.p.name}, local with a free slot (prefer_local)`, "local with a free slot (prefer_local)");
    }
    const pick = pickIn(index.ready, ctx);
    if (!pick) {
      notes.push(`tier ${tier}: ${emptyWhy(index.ready, ctx)}`);
      continue;
    }
    if (options.spillUp !== false && !request.forceTier && !hasFreeSlot(pick.best)) {
      for (const higher of order.slice(i + 1)) {
        if (higher < tier) continue;
        const up = pickIn(group.tiers[higher].ready, ctx);
        if (up && hasFreeSlot(up.best)) {
          return chosen(base, higher, up.best, [...up.weighed, ...pick.weighed],
            `${notes.join("; ")}; tier ${tier} full (${pick.best.p.name} ${load(pick.best)}), spilled up to tier ${higher}: ${up.best.p.name}, ${up.how}`,
            `spilled up from full tier ${tier}, ${up.how}`);
        }
      }
    }
    return chosen(base, tier, pick.best, pick.weighed, `${notes.join("; ")}; tier ${tier}: ${pick.best.p.name}, ${pick.how}`, pick.how);
  }

  // Suspect nodes, only as a last resort.
  if (options.suspectAsLastResort !== false) {
    for (const tier of order) {
      const pick = pickIn(group.tiers[tier].suspect, ctx);
      if (pick) {
        return chosen(base, tier, pick.best, pick.weighed,
          `${notes.join("; ")}; no ready node can take it, so suspect node in tier ${tier}: ${pick.best.p.name}, ${pick.how}`,
          `suspect (missed heartbeats), a last resort; ${pick.how}`);
      }
    }
  }
  return undefined;
}

/** Not to be chosen in this pass: already tried, or its circuit is open. */
function skipped(ctx: Context, name: string): boolean {
  return ctx.exclude?.has(name) === true || ctx.ejected?.has(name) === true;
}

function affinityProblem(p: Placement | undefined, request: RouteRequest, ctx: Context): string | undefined {
  if (!p) return "it no longer serves the model (or is down or drained)";
  if (p.health !== "ready") return `it is ${p.health}`;
  if (p.contextSize < ctx.needed) return `its context window (${p.contextSize}) is too small`;
  if (ctx.exclude?.has(p.name)) return "excluded (already tried)";
  const ejected = ctx.ejected?.get(p.name);
  if (ejected !== undefined) return ejected;
  if (request.forceTier && request.forceTier.tier !== p.tier) return `it is in tier ${p.tier}, not the forced tier ${request.forceTier.tier}`;
  return undefined;
}

function rate(p: Placement, ctx: Context): Rated {
  const outstanding = ctx.outstanding?.(p.name) ?? p.outstanding;
  return { p, outstanding, score: p.weight / (1 + outstanding / p.slots) };
}

function hasFreeSlot(r: Rated): boolean {
  return r.outstanding < r.p.slots;
}

function isFull(r: Rated): boolean {
  return r.p.capacityKnown && !hasFreeSlot(r);
}

function load(r: Rated): string {
  return `${r.outstanding}/${r.p.slots} busy`;
}

/** Positive when a is better: score, then (on an exact tie) measured latency. */
function compare(a: Rated, b: Rated): number {
  const diff = a.score - b.score;
  if (Math.abs(diff) > 1e-12 * Math.max(a.score, b.score)) return diff;
  const ft = latencyDiff(a.p.firstTokenMs, b.p.firstTokenMs);
  return ft !== 0 ? ft : latencyDiff(a.p.totalMs, b.p.totalMs);
}

/** Lower latency is better; unknown compares equal (a new node is neither favoured nor shunned). */
function latencyDiff(a: number | null, b: number | null): number {
  return a === null || b === null ? 0 : b - a;
}

function pickLocal(locals: readonly Placement[], ctx: Context): Rated | undefined {
  let best: Rated | undefined;
  for (const p of locals) {
    if (p.contextSize < ctx.needed || skipped(ctx, p.name)) continue;
    const r = rate(p, ctx);
    if (hasFreeSlot(r) && (!best || compare(r, best) > 0)) best = r;
  }
  return best;
}

/** The best node of a tier list for this request, or undefined when none fits or all are excluded. */
function pickIn(list: readonly Placement[], ctx: Context): TierPick | undefined {
  const fit = fitting(list, ctx.needed);
  if (fit === 0) return undefined;
  if (fit > ctx.scanLimit) {
    const a = draw(list, fit, ctx, undefined);
    if (a !== undefined) {
      const b = draw(list, fit, ctx, a);
      const ra = rate(list[a] as Placement, ctx);
      if (b === undefined) return { best: ra, weighed: [ra], how: `the only one sampled of ${fit} (the others drawn were excluded)` };
      const rb = rate(list[b] as Placement, ctx);
      const [best, other] = compare(rb, ra) > 0 ? [rb, ra] : [ra, rb];
      return { best, weighed: [best, other], how: `the better of 2 sampled of ${fit} (${load(best)} vs ${load(other)})` };
    }
    // Sampling kept hitting excluded nodes: most of the tier was tried already; look at all of it.
  }
  return scan(list, fit, ctx);
}

/** A random index below fit that is not excluded and not `not`; a few tries, then give up. */
function draw(list: readonly Placement[], fit: number, ctx: Context, not: number | undefined): number | undefined {
  const range = not === undefined ? fit : fit - 1; // the second draw skips the first one's index
  if (range < 1) return undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    let i = Math.min(range - 1, Math.floor(ctx.random() * range));
    if (not !== undefined && i >= not) i++;
    if (!skipped(ctx, (list[i] as Placement).name)) return i;
  }
  return undefined;
}

function scan(list: readonly Placement[], fit: number, ctx: Context): TierPick | undefined {
  const weighed: Rated[] = [];
  let best: Rated | undefined;
  let ties = 0;
  for (let i = 0; i < fit; i++) {
    const p = list[i] as Placement;
    if (skipped(ctx, p.name)) continue;
    const r = rate(p, ctx);
    weighed.push(r);
    const c = best ? compare(r, best) : 1;
    if (c > 0) {
      best = r;
      ties = 1;
    } else if (c === 0 && ctx.random() * ++ties < 1) {
      best = r; // reservoir sampling: each of the equal best is kept with the same chance
    }
  }
  if (!best) return undefined;
  const chosenOne = best;
  weighed.sort((a, b) => (a === chosenOne ? -1 : b === chosenOne ? 1 : compare(b, a)));
  const how = weighed.length === 1 ? "the only one that fits" : `the best of all ${weighed.length} that fit`;
  return { best, weighed, how };
}

function emptyWhy(list: readonly Placement[], ctx: Context): string {
  if (list.length === 0) return "no ready node";
  const largest = list[0]?.contextSize ?? 0;
  if (largest < ctx.needed) return `no ready node fits ${ctx.needed} tokens (largest window ${largest})`;
  return "every node that fits was excluded or has its circuit open";
}

function unavailableWhy(group: ModelGroup, request: RouteRequest, ctx: Context): Unavailable {
  if (group.largestContext < ctx.needed) return "context-too-long";
  if (request.forceTier && !request.forceTier.fallback) return "tier-unavailable";
  return "no-healthy-node";
}

function candidate(r: Rated, reason: string): RouteCandidate {
  return {
    node: r.p.name,
    tier: r.p.tier,
    model: r.p.model,
    score: Math.round(r.score * 1000) / 1000,
    reason: `${reason}; ${load(r)}, weight ${r.p.weight}`,
  };
}

type Base = Pick<RouteDecision, "class" | "promptTokens" | "neededTokens">;

function chosen(base: Base, tier: Tier, best: Rated, weighed: readonly Rated[], reason: string, why: string): RouteDecision {
  const candidates = [candidate(best, `chosen: ${why}`)];
  for (const r of weighed) {
    if (r !== best) candidates.push(candidate(r, `tier ${r.p.tier}, not chosen`));
  }
  return { ...base, tier, node: best.p.name, model: best.p.model, candidates, reason, affinity: false, full: isFull(best) };
}

function none(base: Base, unavailable: Unavailable, reason: string): RouteDecision {
  return { ...base, tier: null, node: null, model: null, candidates: [], reason, affinity: false, unavailable, full: false };
}
