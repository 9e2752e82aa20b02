// Passive health: each node's circuit, judged from the requests the
// coordinator sends it. A node that keeps failing (refused, reset, timed
// out, 5xx, busy) is ejected for a while instead of attracting more traffic
// because it looks idle — the known flaw of plain least-connections.
//
//   closed ──(failuresToOpen consecutive failures)──▶ open
//   open ──(ejection time passed)──▶ half-open: one request goes as a probe
//   half-open ──probe succeeds──▶ closed     half-open ──probe fails──▶ open, longer
//
// Ejection doubles with each consecutive opening (base × 2^(n−1), capped),
// ± jitter so nodes ejected together are not all probed together. A success
// closes the circuit and forgets earlier openings. Pure: the clock and the
// random source are passed in.
//
// "Never eject the last node able to serve a model" is the router's rule
// (router.ts): an open circuit is skipped only while another node can take
// the request.

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitPolicy {
  /** Consecutive failures that open a closed circuit. */
  failuresToOpen: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Fraction of the ejection added or removed at random, in [0, 1). */
  jitter: number;
}

export const DEFAULT_CIRCUIT_POLICY: CircuitPolicy = {
  failuresToOpen: 3,
  baseEjectionMs: 5_000,
  maxEjectionMs: 300_000,
  jitter: 0.2,
};

export interface CircuitView {
  state: CircuitState;
  consecutiveFailures: number;
  /** Milliseconds until an open circuit lets a probe through; 0 otherwise. */
  ejectionLeftMs: number;
  /** Times it opened in a row without a success in between. */
  openings: number;
  /** Open because the node itself asked for time (a 429 or 503 with Retry-After), not for failing. */
  pausedByNode: boolean;
}

export class Circuit {
  readonly #policy: CircuitPolicy;
  #failures = 0;
  #openings = 0;
  /** Set while open (half-open once it has passed). */
  #openUntilMs: number | null = null;
  #probing = false;
  #pausedByNode = false;

  constructor(policy: CircuitPolicy = DEFAULT_CIRCUIT_POLICY) {
    this.#policy = policy;
  }

  /**
   * The node said "busy, come back in N s" (429/503 with Retry-After): no
   * request goes to it until then, and none of its failures are counted. A
   * longer ejection already running is kept. Afterwards it is half-open like
   * any ejected node: one request finds out whether it is free again.
   */
  pause(untilMs: number): void {
    if (this.#openUntilMs !== null && this.#openUntilMs >= untilMs) return;
    this.#openUntilMs = untilMs;
    this.#probing = false;
    this.#pausedByNode = true;
  }

  state(nowMs: number): CircuitState {
    if (this.#openUntilMs === null) return "closed";
    return nowMs < this.#openUntilMs ? "open" : "half-open";
  }

  /** Whether a new request may be sent: closed, or half-open with no probe out yet. */
  allows(nowMs: number): boolean {
    const state = this.state(nowMs);
    return state === "closed" || (state === "half-open" && !this.#probing);
  }

  /** A request was sent; in half-open it is the probe, and no other goes until it ends. */
  sent(nowMs: number): void {
    if (this.state(nowMs) === "half-open") this.#probing = true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openings = 0;
    this.#openUntilMs = null;
    this.#probing = false;
    this.#pausedByNode = false;
  }

  failed(nowMs: number, random: () => number = Math.random): void {
    this.#failures++;
    const state = this.state(nowMs);
    if (state === "open") return; // a request sent before it opened; the ejection already runs
    if (state === "half-open" || this.#failures >= this.#policy.failuresToOpen) this.#open(nowMs, random);
  }

  /** A request that ended without a verdict (the client hung up): a probe may go again. */
  abandoned(): void {
    this.#probing = false;
  }

  view(nowMs: number): CircuitView {
    return {
      state: this.state(nowMs),
      consecutiveFailures: this.#failures,
      ejectionLeftMs: this.#openUntilMs === null ? 0 : Math.max(0, Math.ceil(this.#openUntilMs - nowMs)),
      openings: this.#openings,
      pausedByNode: this.#pausedByNode,
    };
  }

  #open(nowMs: number, random: () => number): void {
    this.#openings++;
    this.#probing = false;
    this.#pausedByNode = false;
    const { baseEjectionMs, maxEjectionMs, jitter } = this.#policy;
    const ejection = Math.min(maxEjectionMs, baseEjectionMs * 2 ** (this.#openings - 1));
    this.#openUntilMs = nowMs + ejection * (1 + jitter * (2 * random() - 1));
  }
}

/** Every node's circuit, created on first use. Closed circuits cost nothing to skip. */
export class CircuitBook {
  readonly #policy: CircuitPolicy;
  readonly #circuits = new Map<string, Circuit>();
  /** Names whose circuit is not closed: the only ones a request must look at. */
  readonly #tripped = new Set<string>();

  constructor(policy: CircuitPolicy = DEFAULT_CIRCUIT_POLICY) {
    this.#policy = policy;
  }

  /** Nodes a new request must not go to now (open, or half-open with its probe out). */
  blocked(nowMs: number): Set<string> {
    const blocked = new Set<string>();
    for (const name of this.#tripped) {
      if (!this.#circuits.get(name)?.allows(nowMs)) blocked.add(name);
    }
    return blocked;
  }

  sent(name: string, nowMs: number): void {
    if (this.#tripped.has(name)) this.#circuits.get(name)?.sent(nowMs);
  }

  succeeded(name: string): void {
    this.#circuits.get(name)?.succeeded();
    this.#tripped.delete(name);
  }

  failed(name: string, nowMs: number, random?: () => number): void {
    const circuit = this.#circuit(name);
    circuit.failed(nowMs, random);
    if (circuit.state(nowMs) !== "closed") this.#tripped.add(name);
  }

  abandoned(name: string): void {
    this.#circuits.get(name)?.abandoned();
  }

  /** See Circuit.pause. */
  pause(name: string, untilMs: number): void {
    this.#circuit(name).pause(untilMs);
    this.#tripped.add(name);
  }

  view(name: string, nowMs: number): CircuitView {
    return this.#circuits.get(name)?.view(nowMs) ?? { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, openings: 0, pausedByNode: false };
  }

  /** A node removed from the cluster takes its circuit with it. */
  forget(name: string): void {
    this.#circuits.delete(name);
    this.#tripped.delete(name);
  }

  #circuit(name: string): Circuit {
    let circuit = this.#circuits.get(name);
    if (!circuit) {
      circuit = new Circuit(this.#policy);
      this.#circuits.set(name, circuit);
    }
    return circuit;
  }
}
