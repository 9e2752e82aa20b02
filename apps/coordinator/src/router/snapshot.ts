// The cluster as the router sees it: built once from the registry's node
// statuses whenever the cluster changes, then shared, read-only, by every
// routing decision until the next change. Building costs O(nodes × models);
// a decision then costs O(1) in the number of nodes, because the indexes here
// answer its questions without a scan:
// - which nodes serve a model for a capability (chat, embed: by the name a
//   client sends, aliases and "auto" included),
// - split by tier and by health,
// - sorted by context window, largest first, so the nodes a prompt fits are a
//   prefix found by binary search.
//
// Load (busy and queued slots) is copied as it was at build time. Between
// builds it goes stale; route() takes a live `outstanding` lookup for that.
import { CAPABILITIES, nodeStateOf, takesWork, type Capability, type NodeHealth, type NodeStatus, type ServedModel, type Tier } from "@flotilla/protocol";

/** The model name that lets flotilla choose the model as well as the node. Reserved. */
export const AUTO_MODEL = "auto";

export interface SnapshotOptions {
  /**
   * Names clients may send → the model ids nodes report for them, e.g.
   * `{ "llama3": ["llama3.1:8b", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"] }`.
   * A request for the name matches nodes serving any listed id, or the name
   * itself. One-way: a request for "llama3.1:8b" matches only that id.
   */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** Nodes on the coordinator's machine besides the in-process one (kind "local", always local). */
  localNodeNames?: readonly string[];
  /** The model for requests that name none; unset or "auto": flotilla chooses. */
  defaultModel?: string;
}

export interface SnapshotNode {
  readonly name: string;
  readonly tier: Tier;
  readonly health: NodeHealth;
  readonly drained: boolean;
  readonly local: boolean;
  /** Declared share of traffic; 1 when none was declared (or a nonsensical one). */
  readonly weight: number;
  /** Moving averages from nodes/latency.ts; null until measured. */
  readonly firstTokenMs: number | null;
  readonly totalMs: number | null;
  readonly status: NodeStatus;
}

/**
 * One node serving one model: what the router ranks. The node's fields the
 * decision reads are copied in, so weighing a sampled placement touches one
 * object, not two (at 10,000 nodes each pointer hop is a likely cache miss).
 */
export interface Placement {
  readonly node: SnapshotNode;
  readonly name: string;
  readonly tier: Tier;
  readonly health: NodeHealth;
  readonly weight: number;
  readonly firstTokenMs: number | null;
  readonly totalMs: number | null;
  /** The id the node itself uses: what the dispatcher must send it. */
  readonly model: string;
  readonly contextSize: number;
  /** Slots for the model, at least 1 (a node that reports none still takes queued work). */
  readonly slots: number;
  /** Busy + queued slots at build time. */
  readonly outstanding: number;
  /**
   * Whether `slots` is the node's real capacity (agents report theirs). An
   * agentless server's is a guess, good for scoring but not for holding
   * requests back: such a node is never "full", its server queues.
   */
  readonly capacityKnown: boolean;
  /**
   * False for a model its agent unloaded when idle, or is loading again
   * (servedModel.state): it takes no request until it reports loaded, so it
   * counts as full, and the dispatcher has it loaded while a request waits.
   */
  readonly loaded: boolean;
}

export interface TierIndex {
  /** Ready and undrained, largest context window first. */
  readonly ready: readonly Placement[];
  /** The local ones among `ready` (a few at most), same order. */
  readonly readyLocal: readonly Placement[];
  /** Suspect and undrained, largest context window first: a last resort. */
  readonly suspect: readonly Placement[];
}

export interface ModelGroup {
  /** The name clients send. */
  readonly name: string;
  readonly tiers: readonly [TierIndex, TierIndex, TierIndex];
  /** Ready or suspect, undrained placements by node name: affinity checks. */
  readonly byNode: ReadonlyMap<string, Placement>;
  /** The largest context window among them. */
  readonly largestContext: number;
}

/** The groups of one capability. */
export interface CapabilityIndex {
  /** By the name clients send: model ids and alias names. Only names some routable node serves. */
  readonly groups: ReadonlyMap<string, ModelGroup>;
  /** Every routable node with its model of the largest context window. */
  readonly auto: ModelGroup;
}

export interface ClusterSnapshot {
  /** Every node given, whatever its health: explanations name skipped nodes too. */
  readonly nodes: ReadonlyMap<string, SnapshotNode>;
  readonly byCapability: Readonly<Record<Capability, CapabilityIndex>>;
  /**
   * Names served by some node of any health → what some node can do with
   * them: "no healthy node" or "cannot do that" rather than "unknown model".
   */
  readonly knownModels: ReadonlyMap<string, ReadonlySet<Capability>>;
  readonly defaultModel: string | undefined;
}

export function buildSnapshot(statuses: readonly NodeStatus[], options: SnapshotOptions = {}): ClusterSnapshot {
  const localNames = new Set(options.localNodeNames ?? []);
  const aliasesOf = new Map<string, string[]>(); // model id → alias names that include it
  for (const [alias, ids] of Object.entries(options.aliases ?? {})) {
    for (const id of ids) {
      const list = aliasesOf.get(id) ?? [];
      list.push(alias);
      aliasesOf.set(id, list);
    }
  }

  const nodes = new Map<string, SnapshotNode>();
  const knownModels = new Map<string, Set<Capability>>();
  const builders = capabilityRecord(() => ({
    byName: new Map<string, Map<string, Placement>>(), // name → node → placement
    auto: new Map<string, Placement>(),
  }));

  for (const status of statuses) {
    if (nodes.has(status.name)) continue; // names are unique in the registry; the first one counts
    const node = snapshotNode(status, status.kind === "local" || localNames.has(status.name));
    nodes.set(node.name, node);
    const routable = takesWork(nodeStateOf(status));
    for (const served of status.models) {
      const names = [served.id, ...(aliasesOf.get(served.id) ?? [])];
      for (const name of names) {
        let known = knownModels.get(name);
        if (!known) knownModels.set(name, (known = new Set()));
        for (const capability of served.capabilities) known.add(capability);
      }
      if (!routable) continue;
      const placement = placementOf(node, served);
      for (const capability of served.capabilities) {
        const builder = builders[capability];
        for (const name of names) keepLargest(builder.byName, name, placement);
        const current = builder.auto.get(node.name);
        if (!current || better(placement, current)) builder.auto.set(node.name, placement);
      }
    }
  }

  const byCapability = capabilityRecord((capability): CapabilityIndex => {
    const builder = builders[capability];
    const groups = new Map<string, ModelGroup>();
    for (const [name, byNode] of builder.byName) groups.set(name, group(name, byNode));
    return Object.freeze({ groups, auto: group(AUTO_MODEL, builder.auto) });
  });
  return Object.freeze({
    nodes,
    byCapability: Object.freeze(byCapability),
    knownModels,
    defaultModel: options.defaultModel,
  });
}

function capabilityRecord<T>(make: (capability: Capability) => T): Record<Capability, T> {
  const record = {} as Record<Capability, T>;
  for (const capability of CAPABILITIES) record[capability] = make(capability);
  return record;
}

/**
 * The group a request's model names, among the nodes able to do what it
 * asks: the default model when it names none; "auto" for every such node.
 */
export function resolveModel(
  snapshot: ClusterSnapshot,
  requested: string | undefined,
  capability: Capability = "chat",
): { name: string; group: ModelGroup | undefined } {
  const name = requested === undefined || requested === "" ? (snapshot.defaultModel ?? AUTO_MODEL) : requested;
  const index = snapshot.byCapability[capability];
  return { name, group: name === AUTO_MODEL ? index.auto : index.groups.get(name) };
}

function snapshotNode(status: NodeStatus, local: boolean): SnapshotNode {
  const weight = status.weight;
  return {
    name: status.name,
    tier: status.tier,
    health: status.health,
    drained: status.drained,
    local,
    weight: weight !== undefined && Number.isFinite(weight) && weight > 0 ? weight : 1,
    firstTokenMs: status.latency.firstTokenMs,
    totalMs: status.latency.totalMs,
    status,
  };
}

function placementOf(node: SnapshotNode, served: ServedModel): Placement {
  return {
    node,
    name: node.name,
    tier: node.tier,
    health: node.health,
    weight: node.weight,
    firstTokenMs: node.firstTokenMs,
    totalMs: node.totalMs,
    model: served.id,
    contextSize: served.contextSize,
    slots: Math.max(1, served.slots.total),
    outstanding: served.slots.busy + served.slots.queued,
    capacityKnown: node.status.kind === "agent" || node.status.kind === "local",
    loaded: served.state === undefined || served.state === "loaded",
  };
}

/** A node serving two ids of one alias counts once, with its larger window (then more slots). */
function better(a: Placement, b: Placement): boolean {
  return a.contextSize > b.contextSize || (a.contextSize === b.contextSize && a.slots > b.slots);
}

function keepLargest(builders: Map<string, Map<string, Placement>>, name: string, placement: Placement): void {
  let byNode = builders.get(name);
  if (!byNode) builders.set(name, (byNode = new Map<string, Placement>()));
  const current = byNode.get(placement.node.name);
  if (!current || better(placement, current)) byNode.set(placement.node.name, placement);
}

function group(name: string, byNode: ReadonlyMap<string, Placement>): ModelGroup {
  const all = [...byNode.values()].sort((a, b) => b.contextSize - a.contextSize);
  const ready: Placement[][] = [[], [], []];
  const local: Placement[][] = [[], [], []];
  const suspect: Placement[][] = [[], [], []];
  for (const p of all) {
    // One pass keeps each bucket in the sorted order.
    if (p.health === "ready") {
      ready[p.tier]?.push(p);
      if (p.node.local) local[p.tier]?.push(p);
    } else {
      suspect[p.tier]?.push(p);
    }
  }
  const tier = (t: Tier): TierIndex => ({ ready: ready[t] ?? [], readyLocal: local[t] ?? [], suspect: suspect[t] ?? [] });
  return Object.freeze({
    name,
    tiers: [tier(0), tier(1), tier(2)] as const,
    byNode,
    largestContext: all[0]?.contextSize ?? 0,
  });
}

/** How many placements of a list sorted largest window first have at least `tokens`: binary search. */
export function fitting(list: readonly Placement[], tokens: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid]?.contextSize ?? 0) >= tokens) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
