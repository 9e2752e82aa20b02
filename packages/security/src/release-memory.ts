// Memory held by a connection's body comes back after it closes. Bodies are
// read into Buffers, whose memory lives outside V8's heap; once the
// connection is gone they are garbage, but V8 collects only under heap
// pressure, and an idle coordinator has none: 50 connections that each sent
// most of a 4 MB body and left kept ~200 MB for as long as anyone watched
// (ADR 0023). So when connections that read at least `minBytes` close, one
// full collection runs soon after, at most once per `minIntervalMs`
// whatever a client does: the cost is bounded, and memory returns.
import type { Server } from "node:http";
import type { Socket } from "node:net";
import v8 from "node:v8";
import vm from "node:vm";

export interface ReleasePolicy {
  /** Bytes a closed connection must have read to be worth a collection. */
  minBytes: number;
  /** At most one collection this often, however many connections close. */
  minIntervalMs: number;
}

export const DEFAULT_RELEASE_POLICY: ReleasePolicy = { minBytes: 1024 * 1024, minIntervalMs: 1_000 };

/** V8's collector, exposed once at run time (the process was not started with --expose-gc). */
export function exposedGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  const gc: unknown = vm.runInNewContext("gc");
  if (typeof gc !== "function") throw new Error("V8 did not expose gc");
  return () => {
    Reflect.apply(gc, undefined, []);
  };
}

/** Pure: when the next collection may run, given the last one, or null to run none. */
export function nextCollectionAt(nowMs: number, lastMs: number | null, pendingAtMs: number | null, policy: ReleasePolicy): number | null {
  if (pendingAtMs !== null) return null; // one is already scheduled
  return lastMs === null ? nowMs : Math.max(nowMs, lastMs + policy.minIntervalMs);
}

export function releaseMemoryOfClosedConnections(
  server: Server,
  policy: ReleasePolicy = DEFAULT_RELEASE_POLICY,
  collect: () => void = exposedGc(),
  nowMs: () => number = Date.now,
): void {
  let lastMs: number | null = null;
  let pendingAtMs: number | null = null;
  server.on("connection", (socket: Socket) => {
    socket.once("close", () => {
      if (socket.bytesRead < policy.minBytes) return;
      const at = nextCollectionAt(nowMs(), lastMs, pendingAtMs, policy);
      if (at === null) return;
      pendingAtMs = at;
      // Unref'd: a pending collection never keeps the process alive.
      setTimeout(() => {
        pendingAtMs = null;
        lastMs = nowMs();
        collect();
      }, at - nowMs()).unref();
    });
  });
}
