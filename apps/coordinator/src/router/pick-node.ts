// The first, smallest router: among the nodes that serve the model, the one
// with the most free slots (queued requests count against it), skipping
// nodes that are not ready or are drained. Pure; the
// task-aware router of DESIGN.md replaces it behind the same call.
import type { NodeStatus } from "@flotilla/protocol";

export function pickNode(model: string, nodes: readonly NodeStatus[]): string | undefined {
  let best: { name: string; free: number } | undefined;
  for (const node of nodes) {
    if (node.health !== "ready" || node.drained) continue;
    const served = node.models.find((m) => m.id === model);
    if (!served) continue;
    const free = served.slots.total - served.slots.busy - served.slots.queued;
    if (!best || free > best.free) best = { name: node.name, free };
  }
  return best?.name;
}
