// How many retries the coordinator may send, so that retrying cannot amplify
// an outage: when every node is failing, each request would otherwise turn
// into several. Retries within the last `windowMs` may be at most `ratio` of
// the requests in that window, plus a small floor (`minPerSecond`) so that a
// quiet cluster can still retry its rare failures (Finagle's and Envoy's
// retry budgets work the same way). Pure: the clock is passed in.

export interface RetryBudgetPolicy {
  /** Retries allowed per request, on average over the window. */
  ratio: number;
  /** Retries allowed per second whatever the traffic. */
  minPerSecond: number;
  windowMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetPolicy = { ratio: 0.2, minPerSecond: 5, windowMs: 10_000 };

/** Counts are kept in one-second buckets: O(1) memory, and old ones age out whole. */
const BUCKET_MS = 1_000;

export class RetryBudget {
  readonly #policy: RetryBudgetPolicy;
  readonly #requests: number[];
  readonly #retries: number[];
  /** The bucket index (time / BUCKET_MS) each slot last counted for. */
  readonly #slotOf: number[];

  constructor(policy: RetryBudgetPolicy = DEFAULT_RETRY_BUDGET) {
    this.#policy = policy;
    const slots = Math.max(1, Math.ceil(policy.windowMs / BUCKET_MS));
    this.#requests = new Array<number>(slots).fill(0);
    this.#retries = new Array<number>(slots).fill(0);
    this.#slotOf = new Array<number>(slots).fill(-1);
  }

  /** A new request from a client (not a retry). */
  request(nowMs: number): void {
    const slot = this.#slot(nowMs);
    this.#requests[slot] = (this.#requests[slot] ?? 0) + 1;
  }

  /** Spends one retry if the budget has one; false: do not retry. */
  tryRetry(nowMs: number): boolean {
    const { requests, retries } = this.totals(nowMs);
    const allowed = this.#policy.minPerSecond * (this.#policy.windowMs / 1000) + this.#policy.ratio * requests;
    if (retries + 1 > allowed) return false;
    const slot = this.#slot(nowMs);
    this.#retries[slot] = (this.#retries[slot] ?? 0) + 1;
    return true;
  }

  totals(nowMs: number): { requests: number; retries: number } {
    const current = Math.floor(nowMs / BUCKET_MS);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.#slotOf.length; i++) {
      if (current - (this.#slotOf[i] ?? -1) < this.#slotOf.length) {
        requests += this.#requests[i] ?? 0;
        retries += this.#retries[i] ?? 0;
      }
    }
    return { requests, retries };
  }

  /** The slot for now, emptied first if it last counted for an older second. */
  #slot(nowMs: number): number {
    const bucket = Math.floor(nowMs / BUCKET_MS);
    const slot = bucket % this.#slotOf.length;
    if (this.#slotOf[slot] !== bucket) {
      this.#slotOf[slot] = bucket;
      this.#requests[slot] = 0;
      this.#retries[slot] = 0;
    }
    return slot;
  }
}
