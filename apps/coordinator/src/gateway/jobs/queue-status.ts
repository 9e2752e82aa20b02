// GET /queue-status, the seed's shape: how much waits, how much runs, and how
// many backends there are and are busy, in all and per pool. Pure: the route
// gathers the queue's counts and the nodes' statuses.
import { nodeStateOf, takesWork, type NodeStatus } from "@flotilla/protocol";
import type { JobCounts } from "../../jobs/job-queue.ts";

export interface QueueFigures {
  /** Jobs queued. */
  queue_size: number;
  /** Jobs leased or running. */
  active: number;
  /** Backends (nodes) answering at least one request now. */
  active_backends: number;
  /** Backends that take work: ready or suspect, not drained. */
  total_backends: number;
}

export interface QueueStatus extends QueueFigures {
  pools: Record<string, QueueFigures>;
}

export function queueStatus(countsByPool: ReadonlyMap<string, JobCounts>, nodes: readonly NodeStatus[]): QueueStatus {
  const pools: Record<string, QueueFigures> = {};
  const figures = (pool: string): QueueFigures => (pools[pool] ??= { queue_size: 0, active: 0, active_backends: 0, total_backends: 0 });
  for (const [pool, counts] of countsByPool) {
    const entry = figures(pool);
    entry.queue_size += counts.queued;
    entry.active += counts.leased + counts.running;
  }
  for (const node of nodes) {
    if (!takesWork(nodeStateOf(node))) continue;
    const entry = figures(node.pool);
    entry.total_backends += 1;
    if (node.inFlight > 0) entry.active_backends += 1;
  }
  const total: QueueFigures = { queue_size: 0, active: 0, active_backends: 0, total_backends: 0 };
  for (const entry of Object.values(pools)) {
    total.queue_size += entry.queue_size;
    total.active += entry.active;
    total.active_backends += entry.active_backends;
    total.total_backends += entry.total_backends;
  }
  return { ...total, pools };
}
