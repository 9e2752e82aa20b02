// Failed authentications per source address, as a token bucket: an address
// may fail `maxFailures` times at once, then once per windowMs / maxFailures;
// past that it is refused (429 + Retry-After) until its bucket refills.
// Pure: the clock is injected, nothing is logged or answered here
// (docs/adr/0022). Shared by the coordinator and the agent, which must not
// import each other.

export interface FailureLimit {
  /** Failures an address may have at once (the bucket's size). */
  maxFailures: number;
  /** Time in which a full bucket refills. */
  windowMs: number;
}

export interface FailureLimiterOptions extends FailureLimit {
  nowMs: () => number;
  /**
   * The most addresses tracked at once: past it, those whose bucket has
   * refilled are forgotten first, then the longest-tracked. Bounds the memory
   * an attacker with many addresses can make it use.
   */
  maxAddresses?: number;
}

export type FailureVerdict = { allowed: true } | { allowed: false; retryAfterS: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

/** Generous enough for a person mistyping and for tests that probe routes. */
export const DEFAULT_FAILURE_LIMIT: FailureLimit = { maxFailures: 20, windowMs: 10_000 };
const DEFAULT_MAX_ADDRESSES = 10_000;

export class FailureLimiter {
  readonly #limit: FailureLimit;
  readonly #nowMs: () => number;
  readonly #maxAddresses: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: FailureLimiterOptions) {
    if (!(options.maxFailures >= 1) || !(options.windowMs > 0)) throw new RangeError("maxFailures must be ≥ 1 and windowMs > 0");
    this.#limit = { maxFailures: options.maxFailures, windowMs: options.windowMs };
    this.#nowMs = options.nowMs;
    this.#maxAddresses = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  }

  /** May `address` try a credential now? */
  check(address: string): FailureVerdict {
    const bucket = this.#buckets.get(addressKey(address));
    if (bucket === undefined) return { allowed: true };
    const tokens = this.#refilled(bucket, this.#nowMs());
    if (tokens >= 1) return { allowed: true };
    const msPerToken = this.#limit.windowMs / this.#limit.maxFailures;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(((1 - tokens) * msPerToken) / 1000)) };
  }

  /** `address` presented a wrong credential (or none where one is needed). */
  recordFailure(address: string): void {
    const key = addressKey(address);
    const now = this.#nowMs();
    const bucket = this.#buckets.get(key);
    const tokens = bucket === undefined ? this.#limit.maxFailures : this.#refilled(bucket, now);
    // Re-inserted, so Map order is least recently failed first.
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens: Math.max(0, tokens - 1), atMs: now });
    if (this.#buckets.size > this.#maxAddresses) this.#forgetSome(now);
  }

  /** Addresses tracked now (for tests of the memory bound). */
  get size(): number {
    return this.#buckets.size;
  }

  #refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.atMs);
    return Math.min(this.#limit.maxFailures, bucket.tokens + (elapsed * this.#limit.maxFailures) / this.#limit.windowMs);
  }

  #forgetSome(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (this.#refilled(bucket, now) >= this.#limit.maxFailures) this.#buckets.delete(key);
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxAddresses) break;
      this.#buckets.delete(key);
    }
  }
}

/**
 * The unit an address is counted in: an IPv4 address as it is, an IPv6
 * address by its /64, which is what one subscriber is usually given (one
 * machine can pick any address inside it). IPv4-mapped IPv6 counts as IPv4.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::") ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
