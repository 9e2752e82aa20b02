// Heartbeats every interval, for as long as the agent runs. A coordinator
// that is down or restarting is simply tried again at the next beat: its
// store remembers the node, so the first beat it hears makes the node ready.
// A change the coordinator should hear of at once (a roamer's workload now
// running) asks for a beat soon: sent now, or right after the one on its
// way, never two at once.
import type { Service } from "@flotilla/lifecycle";
import type { Heartbeat } from "@flotilla/protocol";
import { CoordinatorRefused, sendHeartbeat } from "./coordinator-client.ts";

export interface HeartbeatLoopOptions {
  coordinatorUrl: string;
  credential: string;
  intervalMs: number;
  beat: () => Heartbeat;
  /** Called with each heartbeat the coordinator accepted. */
  onDelivered?: (beat: Heartbeat) => void;
  /** Called when the outcome changes (ok → failing and back), not at every beat. */
  onChange: (ok: boolean, error?: Error) => void;
}

export class HeartbeatLoop implements Service {
  readonly name = "heartbeats";
  readonly #o: HeartbeatLoopOptions;
  #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastOk: boolean | undefined;
  #started = false;
  #inFlight = false;
  /** A beat was asked for while one was on its way: send another when it is back. */
  #again = false;

  constructor(options: HeartbeatLoopOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs;
  }

  start(): void {
    this.#started = true;
    void this.#tick();
  }

  /** Sends a heartbeat now instead of at the next interval; coalesced with one already on its way. */
  beatSoon(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    void this.#tick();
  }

  /**
   * No beat is sent after this. A beat already on its way is not waited for:
   * the coordinator may be the one not answering, and a shutdown should not
   * wait out a request timeout for it.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    return Promise.resolve();
  }

  async #tick(): Promise<void> {
    this.#inFlight = true;
    this.#again = false;
    let ok = true;
    let error: Error | undefined;
    try {
      const beat = this.#o.beat();
      const answer = await sendHeartbeat(this.#o.coordinatorUrl, this.#o.credential, beat);
      this.#intervalMs = answer.heartbeatIntervalMs;
      this.#o.onDelivered?.(beat);
    } catch (err) {
      ok = false;
      error = err instanceof CoordinatorRefused || err instanceof Error ? err : new Error(String(err));
    }
    if (ok !== this.#lastOk) this.#o.onChange(ok, error);
    this.#lastOk = ok;
    this.#inFlight = false;
    if (this.#stopped) return;
    // What changed while the last beat was on its way goes out now, not an interval later.
    this.#timer = setTimeout(() => void this.#tick(), this.#again ? 0 : this.#intervalMs);
  }
}
