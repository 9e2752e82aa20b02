// Requests waiting for a free slot while every node able to take them is
// full. Bounded in depth and in time: past either bound a request gets 503
// with Retry-After at once rather than hanging (ADR 0014). FIFO within a
// priority, high before normal before low.
//
// A waiter brings a `tryNow` callback that routes it and, when a node has a
// free slot, takes that slot synchronously. Whenever capacity may have freed
// (a request ended, or the periodic re-check for nodes that joined or
// recovered) the queue offers it to the waiters in order; since each one's
// take is synchronous, the next waiter sees the slot already gone. Waiters
// for other models are offered too, so one full model does not block another.
import { FlotillaError } from "@flotilla/protocol";
import type { Priority, QueueExit } from "./types.ts";

export interface BusyQueuePolicy {
  /** Requests waiting at once, all priorities together; 0 turns the queue off. */
  maxDepth: number;
  maxWaitMs: number;
  /** How often waiters are re-offered capacity when nothing ended (nodes joining, circuits closing). */
  recheckMs: number;
}

export const DEFAULT_BUSY_QUEUE: BusyQueuePolicy = { maxDepth: 64, maxWaitMs: 30_000, recheckMs: 250 };

const PRIORITIES: readonly Priority[] = ["high", "normal", "low"];

interface Waiter {
  readonly tryNow: () => boolean;
  readonly enqueuedAtMs: number;
  readonly settle: (exit: QueueExit, err?: Error) => void;
}

export interface QueueWait {
  waitedMs: number;
}

export class BusyQueue {
  readonly #policy: BusyQueuePolicy;
  readonly #nowMs: () => number;
  readonly #lanes = new Map<Priority, Waiter[]>(PRIORITIES.map((p) => [p, []]));
  #depth = 0;
  /** Waiters held to each pool: its waiting synchronous requests, which the autoscaler counts as demand. */
  readonly #byPool = new Map<string, number>();
  #recheck: NodeJS.Timeout | undefined;
  #offering = false;
  readonly #onExit: (waitedMs: number, exit: QueueExit) => void;

  constructor(policy: BusyQueuePolicy, nowMs: () => number, onExit: (waitedMs: number, exit: QueueExit) => void = () => {}) {
    this.#policy = policy;
    this.#nowMs = nowMs;
    this.#onExit = onExit;
  }

  /** maxDepth 0: requests go to a full node and wait in its own queue instead. */
  get disabled(): boolean {
    return this.#policy.maxDepth === 0;
  }

  get depth(): number {
    return this.#depth;
  }

  /** Requests waiting that are held to `pool`. */
  depthOf(pool: string): number {
    return this.#byPool.get(pool) ?? 0;
  }

  /**
   * Waits until `tryNow()` returns true (it has taken its slot). Rejects with
   * a 503 server_busy when the queue is full or the wait outlasts maxWaitMs,
   * and with the signal's reason when it aborts.
   */
  wait(priority: Priority, signal: AbortSignal, tryNow: () => boolean, pool?: string): Promise<QueueWait> {
    if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    if (this.#depth >= this.#policy.maxDepth) {
      this.#onExit(0, "overflow");
      return Promise.reject(new FlotillaError("server_busy",
        `every node that can take this request is busy and ${this.#depth} requests are already waiting`,
        { retryAfterS: this.#retryAfterS() }));
    }
    return new Promise<QueueWait>((resolve, reject) => {
      const lane = this.#lanes.get(priority) ?? [];
      const enqueuedAtMs = this.#nowMs();
      const timer = setTimeout(() => {
        waiter.settle("timeout", new FlotillaError("server_busy",
          `every node that can take this request stayed busy for ${Math.round(this.#policy.maxWaitMs / 1000)} s`,
          { retryAfterS: this.#retryAfterS() }));
      }, this.#policy.maxWaitMs);
      const onAbort = () => waiter.settle("cancelled", signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal.addEventListener("abort", onAbort, { once: true });
      let settled = false;
      const waiter: Waiter = {
        tryNow,
        enqueuedAtMs,
        settle: (exit, err) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          const at = lane.indexOf(waiter);
          if (at >= 0) lane.splice(at, 1);
          this.#depth--;
          if (pool !== undefined) this.#count(pool, -1);
          if (this.#depth === 0) this.#stopRecheck();
          const waitedMs = this.#nowMs() - enqueuedAtMs;
          this.#onExit(waitedMs, exit);
          if (err) reject(err);
          else resolve({ waitedMs });
        },
      };
      lane.push(waiter);
      this.#depth++;
      if (pool !== undefined) this.#count(pool, 1);
      this.#startRecheck();
    });
  }

  /** Capacity may have freed: each waiter, in order, gets a chance to take it. */
  offer(): void {
    if (this.#depth === 0 || this.#offering) return;
    this.#offering = true; // a take can release synchronously and call back here; one walk is enough
    try {
      for (const priority of PRIORITIES) {
        for (const waiter of [...(this.#lanes.get(priority) ?? [])]) {
          if (waiter.tryNow()) waiter.settle("dispatched");
        }
      }
    } finally {
      this.#offering = false;
    }
  }

  #count(pool: string, by: number): void {
    const n = (this.#byPool.get(pool) ?? 0) + by;
    if (n <= 0) this.#byPool.delete(pool);
    else this.#byPool.set(pool, n);
  }

  /** Rejects every waiter (the coordinator is closing). */
  close(): void {
    for (const lane of this.#lanes.values()) {
      for (const waiter of [...lane]) waiter.settle("cancelled", new FlotillaError("server_busy", "the coordinator is shutting down", { retryAfterS: 1 }));
    }
  }

  /**
   * Slots free at generation speed, seconds at most for the small models a
   * home lab runs; the official clients honour Retry-After, so a short one
   * turns a refusal into a brief back-off rather than an error.
   */
  #retryAfterS(): number {
    return 1;
  }

  #startRecheck(): void {
    if (this.#recheck) return;
    this.#recheck = setInterval(() => this.offer(), this.#policy.recheckMs);
    this.#recheck.unref();
  }

  #stopRecheck(): void {
    clearInterval(this.#recheck);
    this.#recheck = undefined;
  }
}
