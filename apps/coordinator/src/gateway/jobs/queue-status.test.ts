import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStatus } from "@flotilla/protocol";
import { zeroCounts } from "../../jobs/job-queue.ts";
import { queueStatus } from "./queue-status.ts";

const node = (name: string, pool: string, extra: Partial<NodeStatus> = {}) =>
  ({ name, pool, health: "ready", drained: false, inFlight: 0, ...extra }) as NodeStatus;

test("queue-status counts queued and active jobs per pool, and the backends that take work and are busy", () => {
  const brain = { ...zeroCounts(), queued: 3, leased: 1, running: 2, succeeded: 9 };
  const vision = { ...zeroCounts(), queued: 1 };
  const status = queueStatus(new Map([["brain", brain], ["vision", vision]]), [
    node("a", "brain", { inFlight: 2 }),
    node("b", "brain"),
    node("c", "brain", { drained: true, inFlight: 1 }),
    node("d", "brain", { health: "down" }),
    node("e", "vision", { health: "suspect", inFlight: 1 }),
  ]);
  assert.deepEqual(status, {
    queue_size: 4,
    active: 3,
    active_backends: 2,
    total_backends: 3,
    pools: {
      brain: { queue_size: 3, active: 3, active_backends: 1, total_backends: 2 },
      vision: { queue_size: 1, active: 0, active_backends: 1, total_backends: 1 },
    },
  });
});
