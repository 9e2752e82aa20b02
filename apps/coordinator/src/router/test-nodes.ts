// Node statuses for the router's tests: one model per node unless told otherwise.
import type { NodeStatus, ServedModel, Tier } from "@flotilla/protocol";

export interface NodeSpec {
  tier?: Tier;
  model?: string;
  models?: ServedModel[];
  context?: number;
  slots?: number;
  busy?: number;
  queued?: number;
  health?: NodeStatus["health"];
  drained?: boolean;
  kind?: NodeStatus["kind"];
  weight?: number;
  firstTokenMs?: number | null;
  totalMs?: number | null;
  capabilities?: ServedModel["capabilities"];
  pool?: string;
}

export function testNode(name: string, spec: NodeSpec = {}): NodeStatus {
  const busy = spec.busy ?? 0;
  const queued = spec.queued ?? 0;
  const status: NodeStatus = {
    name,
    kind: spec.kind ?? "agent",
    health: spec.health ?? "ready",
    drained: spec.drained ?? false,
    tier: spec.tier ?? 0,
    pool: spec.pool ?? "default",
    url: null,
    models: spec.models ?? [
      { id: spec.model ?? "m", contextSize: spec.context ?? 4096, loadedAtMs: 0, slots: { total: spec.slots ?? 4, busy, queued }, capabilities: spec.capabilities ?? ["chat"] },
    ],
    inFlight: busy + queued,
    hardware: null,
    lastSeenAgoMs: 0,
    latency: { firstTokenMs: spec.firstTokenMs ?? null, totalMs: spec.totalMs ?? null, samples: spec.firstTokenMs == null ? 0 : 10 },
  };
  if (spec.weight !== undefined) status.weight = spec.weight;
  return status;
}

/** A deterministic stand-in for Math.random: the given values in turn, then repeating. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}
