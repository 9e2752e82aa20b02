// Heartbeats every interval, for as long as the agent runs. A coordinator
// that is down or restarting is simply tried again at the next beat: its
// store remembers the node, so the first beat it hears makes the node ready.
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

  constructor(options: HeartbeatLoopOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs;
  }

  start(): void {
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
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
  }
}
