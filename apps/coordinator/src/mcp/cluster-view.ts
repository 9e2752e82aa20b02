// What the `cluster_status` and `list_models` tools show a client key:
// the working facts /cluster/status and /v1/models give (state, tier, pool,
// models, load), without what only an operator may read there — node URLs,
// hardware, labels, health-check errors, circuits (docs/adr/0031). Pure
// functions of the node statuses, so the same statuses always read the same.
import { z } from "zod";
import { CAPABILITIES, holdsLoad, nodeState, nodeStateOf, slotsOf, type Capability, type NodeStatus } from "@flotilla/protocol";

const count = z.int().min(0);
const capability = z.enum(CAPABILITIES);

export const clusterView = z.object({
  nodes: z.array(
    z.object({
      name: z.string(),
      state: nodeState,
      tier: z.int().min(0).max(2),
      pool: z.string(),
      models: z.array(z.object({ id: z.string(), contextSize: count, capabilities: z.array(capability) })),
      load: z.object({
        /** Requests the node can run at once (its models' slots together). */
        slots: count,
        busySlots: count,
        /** Requests waiting on the node itself. */
        queued: count,
        inFlight: count,
      }),
    }),
  ),
  totals: z.object({ nodes: count, ready: count, slots: count, inFlight: count }),
  /** The coordinator's busy queue: requests waiting for any node to have a free slot. */
  queue: z.object({ depth: count, maxDepth: count }),
});
export type ClusterView = z.infer<typeof clusterView>;

export const modelsView = z.object({
  models: z.array(
    z.object({
      id: z.string(),
      /** The largest context a node serving it offers, as /v1/models gives it (max_model_len). */
      contextSize: count,
      /** What any node serving it can do with it. */
      capabilities: z.array(capability),
      nodes: z.array(z.string()),
    }),
  ),
});
export type ModelsView = z.infer<typeof modelsView>;

export function clusterViewOf(statuses: readonly NodeStatus[], queue: { depth: number; maxDepth: number }): ClusterView {
  const nodes = statuses.map((s) => {
    const state = nodeStateOf(s);
    return {
      name: s.name,
      state,
      tier: s.tier,
      pool: s.pool,
      models: s.models.map((m) => ({ id: m.id, contextSize: m.contextSize, capabilities: [...m.capabilities] })),
      load: {
        slots: slotsOf(s),
        busySlots: s.models.reduce((sum, m) => sum + m.slots.busy, 0),
        queued: s.models.reduce((sum, m) => sum + m.slots.queued, 0),
        inFlight: s.inFlight,
      },
    };
  });
  // The same totals as /cluster/status: a node that is down counts nowhere.
  const live = nodes.filter((n) => holdsLoad(n.state));
  return {
    nodes,
    totals: {
      nodes: nodes.length,
      ready: nodes.filter((n) => n.state === "ready").length,
      slots: live.reduce((sum, n) => sum + n.load.slots, 0),
      inFlight: live.reduce((sum, n) => sum + n.load.inFlight, 0),
    },
    queue: { depth: queue.depth, maxDepth: queue.maxDepth },
  };
}

/** The models /v1/models lists (every model a node that is not down serves, once), with what they can do and where. */
export function modelsViewOf(statuses: readonly NodeStatus[]): ModelsView {
  const byId = new Map<string, { contextSize: number; capabilities: Set<Capability>; nodes: string[] }>();
  for (const status of statuses) {
    if (status.health === "down") continue;
    for (const m of status.models) {
      const seen = byId.get(m.id) ?? { contextSize: 0, capabilities: new Set(), nodes: [] };
      seen.contextSize = Math.max(seen.contextSize, m.contextSize);
      for (const c of m.capabilities) seen.capabilities.add(c);
      seen.nodes.push(status.name);
      byId.set(m.id, seen);
    }
  }
  return {
    models: [...byId.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, m]) => ({ id, contextSize: m.contextSize, capabilities: CAPABILITIES.filter((c) => m.capabilities.has(c)), nodes: m.nodes })),
  };
}
