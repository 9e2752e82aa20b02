// Active health checks for agentless nodes: they send no heartbeats, so the
// coordinator asks each one for its model list every interval (the agents'
// heartbeat interval, so both kinds of node go suspect and down on the same
// clock). A check still running when the next is due is not doubled up.
import type { Service } from "@flotilla/lifecycle";
import type { AgentlessNode } from "./agentless-node.ts";

export interface ProberOptions {
  intervalMs: number;
  /** The nodes to check, read at every round: nodes come and go. */
  nodes: () => Iterable<AgentlessNode>;
}

/**
 * Short enough that a hung server is noticed within its TTL, long enough for
 * a busy box on a slow LAN to list its models.
 */
export function probeTimeoutMs(intervalMs: number): number {
  return Math.min(5_000, Math.max(1_000, intervalMs));
}

export class AgentlessProber implements Service {
  readonly name = "agentless health checks";
  readonly #o: ProberOptions;
  readonly #running = new Map<AgentlessNode, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProberOptions) {
    this.#o = options;
  }

  /** Checks every node now, then every interval. */
  start(): void {
    this.#round();
    this.#timer = setInterval(() => this.#round(), this.#o.intervalMs);
    // Health checks alone never keep the process alive.
    this.#timer.unref();
  }

  /** Checks one node now (a node just added), or joins the check already running. */
  probe(node: AgentlessNode): Promise<void> {
    const running = this.#running.get(node);
    if (running) return running;
    const check = node.checkHealth(probeTimeoutMs(this.#o.intervalMs)).finally(() => this.#running.delete(node));
    this.#running.set(node, check);
    return check;
  }

  /** Stops the timer and waits for the checks in flight, so nothing calls out after close. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#running.values());
  }

  #round(): void {
    // checkHealth records failures itself and never rejects.
    for (const node of this.#o.nodes()) void this.probe(node);
  }
}
