// A background part of a process (a prober's interval, a heartbeat loop, an
// mDNS socket), or a resource such a part uses, as the start-up sees it: a
// name, a start and a stop. Shared by the coordinator and the agent, which
// must not import each other (docs/adr/0019).

export interface Service {
  /** What it is, as a person reads it in an error: "agentless health checks", "mDNS discovery". */
  readonly name: string;
  /** Begins the work (arms its timers, opens its sockets); resolves once it is running. */
  start(): Promise<void> | void;
  /** Ends the work and resolves once it has: timers cleared, sockets closed, what it waits for settled. */
  stop(): Promise<void>;
}

/**
 * A part that is running as soon as it is built (a store, a connection pool,
 * an HTTP app): nothing to start, only `close` to call when the group stops.
 */
export function alreadyOpen(name: string, close: () => Promise<unknown> | void): Service {
  return {
    name,
    start: () => {},
    stop: async () => {
      await close();
    },
  };
}
