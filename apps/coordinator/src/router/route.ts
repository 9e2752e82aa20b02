// The router: (request, cluster snapshot) → the node to use, the ranked
// candidates it weighed, and the steps that led there as codes
// (decision.ts; explain-text.ts words them). Pure: no I/O, no clock,
// randomness passed in, state owned by the caller (the affinity map, live
// in-flight counts).
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
//    take the request, same order; a step says so. Down and drained
//    nodes never.
// 7. Nodes whose circuit is open (`ejected`, dispatch/circuit-breaker.ts)
//    are skipped like excluded ones, unless no other node can take the
//    request: the last node able to serve a model is never ejected.
// The cost does not grow with the fleet: map lookups, one binary search per
// tier tried, and two samples (or a scan of at most scanLimit nodes); the
// record is a few small objects, no strings.
import type { Capability, Tier } from "@flotilla/protocol";
import type { Classification, ComplexityClass } from "./classify.ts";
import type { ChosenRoute, Ejection, Load, NodeUnfit, PickHow, RouteDecision, RouteStep, Unavailable, UnavailableRoute, WeighedCandidate } from "./decision.ts";
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
  /** The pool whose nodes may take it (router.ts chose the snapshot by it); undefined: any. */
  pool?: string;
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
  ejected?: ReadonlyMap<string, Ejection>;
}

/** Room for a short answer when the client set no max_tokens. */
export const COMPLETION_RESERVE_TOKENS = 16;
export const DEFAULT_SCAN_LIMIT = 8;

/** The score factor of a model not loaded: below any loaded one's, which is at least weight / (1 + its queue). */
const UNLOADED_SCORE = 1e-6;

const ORDER: Record<ComplexityClass, readonly Tier[]> = {
  SIMPLE: [0, 1, 2],
  MEDIUM: [1, 2, 0],
  COMPLEX: [2, 1, 0],
};

/** The class whose order starts with each tier: a forced tier falls back the way that class does. */
const CLASS_OF_TIER: Record<Tier, ComplexityClass> = { 0: "SIMPLE", 1: "MEDIUM", 2: "COMPLEX" };

/** What a model with no usable node at all answers. */
const UNAVAILABLE_MODEL: Record<Extract<RouteStep, { code: "model-unavailable" }>["because"], Unavailable> = {
  unknown: "unknown-model",
  "not-capable": "not-capable",
  "all-down": "no-healthy-node",
};

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
  readonly ejected: ReadonlyMap<string, Ejection> | undefined;
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
  readonly how: PickHow;
}

/** The decision's common part; `steps` grows as the decision goes. */
interface Base {
  readonly class: ComplexityClass;
  readonly promptTokens: number;
  readonly neededTokens: number;
  readonly steps: RouteStep[];
}

export function route(
  request: RouteRequest,
  snapshot: ClusterSnapshot,
  options: RouteOptions,
  random: () => number,
): RouteDecision {
  const cls = request.classification.class;
  const neededTokens = request.promptTokens + (request.maxTokens ?? options.completionReserveTokens ?? COMPLETION_RESERVE_TOKENS);
  const steps: RouteStep[] = [];
  const base: Base = { class: cls, promptTokens: request.promptTokens, neededTokens, steps };
  const capability = request.capability ?? "chat";
  const { name, group } = resolveModel(snapshot, request.model, capability);
  if (!group) {
    const known = snapshot.knownModels.get(name);
    const because = known?.has(capability) ? "all-down" : known ? "not-capable" : "unknown";
    steps.push({ code: "model-unavailable", model: name, capability, because });
    return none(base, UNAVAILABLE_MODEL[because]);
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
  const forced = request.forceTier;
  steps.push(
    forced ? { code: "tier-forced", class: cls, tier: forced.tier, fallback: forced.fallback } : { code: "classified", class: cls, by: request.classification.reason },
    { code: "planned", model: name, capability, needed: neededTokens, tiers: order },
  );

  // Session affinity.
  if (request.session !== undefined && options.affinity) {
    const kept = options.affinity(request.session);
    if (kept !== undefined) {
      const p = group.byNode.get(kept);
      const unfit: NodeUnfit | undefined = p ? unfitForSession(p, request, ctx) : { code: "gone" };
      if (p && unfit === undefined) {
        steps.push({ code: "affinity-kept", node: kept });
        const rated = rate(p, ctx);
        return { ...base, kind: "chosen", tier: p.tier, node: p.name, model: p.model, affinity: true, full: isFull(rated), candidates: [candidate(rated, "chosen")] };
      }
      if (unfit) steps.push({ code: "affinity-dropped", node: kept, because: unfit });
    }
  }

  const decided = choose(base, group, order, request, options, ctx);
  if (decided) return decided;
  // The map holds every blocked node of the cluster: name (and retry) only this model's, not already tried.
  const ejected = ctx.ejected ? [...ctx.ejected.keys()].filter((n) => group.byNode.has(n) && !request.exclude?.has(n)) : [];
  if (ejected.length === 0) return none(base, unavailableWhy(group, request, ctx));
  // Every other node failed: the last ones able to serve are never ejected.
  steps.push({ code: "ejected-tried-anyway", nodes: ejected });
  return choose(base, group, order, request, options, { ...ctx, ejected: undefined }) ?? none(base, unavailableWhy(group, request, ctx));
}

/** Steps 3–6 over the nodes ctx allows; undefined when none can take the request. */
function choose(
  base: Base,
  group: ModelGroup,
  order: readonly Tier[],
  request: RouteRequest,
  options: RouteOptions,
  ctx: Context,
): ChosenRoute | undefined {
  // With one node serving the model, a tier without it is no news (every
  // request of a lone `flotilla up` would say "tier 0: no ready node"): the
  // step is left out, unless a forced tier makes it the answer.
  const noteEmptyTiers = group.byNode.size > 1 || request.forceTier !== undefined;
  // Ready nodes, tier by tier.
  for (let i = 0; i < order.length; i++) {
    const tier = order[i] as Tier;
    const index = group.tiers[tier];
    const local = options.preferLocal ? pickLocal(index.readyLocal, ctx) : undefined;
    if (local) {
      base.steps.push({ code: "picked", tier, node: local.p.name, how: "local-free-slot" });
      return chosen(base, tier, local, [local]);
    }
    const pick = pickIn(index.ready, ctx);
    if (!pick) {
      const empty = tierEmpty(tier, index.ready, ctx);
      if (noteEmptyTiers || empty.because !== "no-ready-node") base.steps.push(empty);
      continue;
    }
    if (options.spillUp !== false && !request.forceTier && !hasFreeSlot(pick.best)) {
      for (const higher of order.slice(i + 1)) {
        if (higher < tier) continue;
        const up = pickIn(group.tiers[higher].ready, ctx);
        if (up && hasFreeSlot(up.best)) {
          const full = pick.best;
          base.steps.push(
            { code: "spilled-up", from: tier, to: higher, full: full.p.name, busy: full.outstanding, slots: full.p.slots },
            picked(higher, up),
          );
          return chosen(base, higher, up.best, [...up.weighed, ...pick.weighed]);
        }
      }
    }
    base.steps.push(picked(tier, pick));
    return chosen(base, tier, pick.best, pick.weighed);
  }

  // Suspect nodes, only as a last resort.
  if (options.suspectAsLastResort !== false) {
    for (const tier of order) {
      const pick = pickIn(group.tiers[tier].suspect, ctx);
      if (pick) {
        base.steps.push({ code: "suspect-last-resort", tier }, picked(tier, pick));
        return chosen(base, tier, pick.best, pick.weighed);
      }
    }
  }
  return undefined;
}

/** Not to be chosen in this pass: already tried, or its circuit is open. */
function skipped(ctx: Context, name: string): boolean {
  return ctx.exclude?.has(name) === true || ctx.ejected?.has(name) === true;
}

/** Why the session's node (serving the model) cannot keep the conversation; undefined: it can. */
function unfitForSession(p: Placement, request: RouteRequest, ctx: Context): NodeUnfit | undefined {
  if (p.health !== "ready") return { code: p.health };
  if (p.contextSize < ctx.needed) return { code: "context-too-small", window: p.contextSize, needed: ctx.needed };
  if (ctx.exclude?.has(p.name)) return { code: "excluded" };
  const ejection = ctx.ejected?.get(p.name);
  if (ejection !== undefined) return ejection;
  if (request.forceTier && request.forceTier.tier !== p.tier) return { code: "wrong-tier", tier: p.tier, forced: request.forceTier.tier };
  return undefined;
}

function rate(p: Placement, ctx: Context): Rated {
  const outstanding = ctx.outstanding?.(p.name) ?? p.outstanding;
  // A model not loaded is the last choice: any loaded one, however busy, goes first.
  return { p, outstanding, score: (p.weight / (1 + outstanding / p.slots)) * (p.loaded ? 1 : UNLOADED_SCORE) };
}

function hasFreeSlot(r: Rated): boolean {
  return r.p.loaded && r.outstanding < r.p.slots;
}

function isFull(r: Rated): boolean {
  return r.p.capacityKnown && !hasFreeSlot(r);
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
      if (b === undefined) return { best: ra, weighed: [ra], how: { how: "one-sampled", of: fit } };
      const rb = rate(list[b] as Placement, ctx);
      const [best, other] = compare(rb, ra) > 0 ? [rb, ra] : [ra, rb];
      return { best, weighed: [best, other], how: { how: "two-sampled", of: fit, best: load(best), other: load(other) } };
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
  const how: PickHow = weighed.length === 1 ? { how: "only-fit" } : { how: "best-of-all", of: weighed.length };
  return { best, weighed, how };
}

function tierEmpty(tier: Tier, list: readonly Placement[], ctx: Context): Extract<RouteStep, { code: "tier-empty" }> {
  if (list.length === 0) return { code: "tier-empty", tier, because: "no-ready-node" };
  const largest = list[0]?.contextSize ?? 0;
  if (largest < ctx.needed) return { code: "tier-empty", tier, because: "none-fits", needed: ctx.needed, largestWindow: largest };
  return { code: "tier-empty", tier, because: "all-excluded" };
}

function unavailableWhy(group: ModelGroup, request: RouteRequest, ctx: Context): Unavailable {
  if (group.largestContext < ctx.needed) return "context-too-long";
  if (request.forceTier && !request.forceTier.fallback) return "tier-unavailable";
  return "no-healthy-node";
}

function load(r: Rated): Load {
  return { busy: r.outstanding, slots: r.p.slots };
}

function picked(tier: Tier, pick: TierPick): RouteStep {
  return { code: "picked", tier, node: pick.best.p.name, ...pick.how };
}

function candidate(r: Rated, verdict: WeighedCandidate["verdict"]): WeighedCandidate {
  return {
    node: r.p.name,
    tier: r.p.tier,
    model: r.p.model,
    score: Math.round(r.score * 1000) / 1000,
    verdict,
    busy: r.outstanding,
    slots: r.p.slots,
    weight: r.p.weight,
    suspect: r.p.health === "suspect",
  };
}

function chosen(base: Base, tier: Tier, best: Rated, weighed: readonly Rated[]): ChosenRoute {
  const candidates = [candidate(best, "chosen")];
  for (const r of weighed) {
    if (r !== best) candidates.push(candidate(r, "not-chosen"));
  }
  return { ...base, kind: "chosen", tier, node: best.p.name, model: best.p.model, candidates, affinity: false, full: isFull(best) };
}

function none(base: Base, why: Unavailable): UnavailableRoute {
  return { ...base, kind: "unavailable", why, candidates: [] };
}
