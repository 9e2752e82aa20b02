// Admission to a model's parallel sequences ("slots"). Up to `total` requests
// run at once; the next `maxQueued` wait in FIFO order for at most `maxWaitMs`;
// anything past that is refused at once with 503 + Retry-After, so a busy node
// answers quickly instead of hanging its clients.
import { FlotillaError, type SlotStatus } from "@flotilla/protocol";

export interface SlotPoolOptions {
  total: number;
  maxQueued: number;
  maxWaitMs: number;
}

interface Waiter {
  grant: () => void;
  fail: (err: Error) => void;
}

export type ReleaseSlot = () => void;

export class SlotPool {
  readonly #options: SlotPoolOptions;
  #busy = 0;
  readonly #waiters: Waiter[] = [];
  /** Set once the model is being removed: every acquire fails with it. */
  #closed: Error | undefined;
  #onIdle: (() => void)[] = [];

  constructor(options: SlotPoolOptions) {
    if (!Number.isInteger(options.total) || options.total < 1) throw new RangeError("slots must be a positive integer");
    this.#options = options;
  }

  status(): SlotStatus {
    return { total: this.#options.total, busy: this.#busy, queued: this.#waiters.length };
  }

  /** Resolves with a release function once a slot is held. */
  acquire(signal: AbortSignal): Promise<ReleaseSlot> {
    signal.throwIfAborted();
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#busy < this.#options.total) {
      this.#busy++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiters.length >= this.#options.maxQueued) {
      return Promise.reject(busyError("every slot is busy and the wait queue is full"));
    }
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve(this.#releaser());
        },
        fail: (err) => {
          leave();
          reject(err);
        },
      };
      const onAbort = () => waiter.fail(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      const timer = setTimeout(
        () => waiter.fail(busyError(`no slot became free within ${this.#options.maxWaitMs} ms`)),
        this.#options.maxWaitMs,
      );
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Admits nothing more: the waiting requests and every later one fail with
   * `error`; those holding a slot keep it until they release it.
   */
  close(error: Error): void {
    this.#closed ??= error;
    for (const waiter of [...this.#waiters]) waiter.fail(error);
  }

  /** Resolves once no slot is held (at once when none is). */
  idle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onIdle.push(resolve));
  }

  #releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters[0];
      // Hand the slot straight to the oldest waiter: `busy` stays the same.
      if (next) next.grant();
      else this.#busy--;
      if (this.#busy === 0) {
        const waiting = this.#onIdle;
        this.#onIdle = [];
        for (const resolve of waiting) resolve();
      }
    };
  }
}

function busyError(message: string): FlotillaError {
  return new FlotillaError("server_busy", message, { retryAfterS: 1 });
}
