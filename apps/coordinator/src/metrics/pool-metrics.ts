// Pools and roamers in /metrics (issue 17): each roamer's state (1 for the
// state it is in, 0 for the others, so a graph of one state is a count of
// roamers in it) and how long it has been in it, and each pool's workers and
// demand, read at scrape time from the roamer controller.
//
// Cardinality: roamer names are joined agents' names, pools are the declared
// ones and the ones nodes carry; both are bounded by the cluster itself.
import { Gauge, type Registry } from "prom-client";
import { ROAMER_STATES, type PoolView, type RoamerView } from "@flotilla/protocol";

const PREFIX = "flotilla_";

export interface PoolSource {
  views(): RoamerView[];
  poolViews(): Promise<PoolView[]>;
}

export class PoolMetrics {
  #source: PoolSource | null = null;

  constructor(registry: Registry) {
    const registers = [registry];
    const sourceNow = () => this.#source;
    new Gauge({
      name: `${PREFIX}roamer_state`,
      help: "1 for the state each roamer is in (IDLE, ASSIGNED, PROVISIONING, RUNNING, CLEANUP), 0 for the others.",
      labelNames: ["roamer", "state", "pool"],
      registers,
      collect() {
        this.reset();
        for (const roamer of sourceNow()?.views() ?? []) {
          for (const state of ROAMER_STATES) this.set({ roamer: roamer.name, state, pool: roamer.pool ?? "" }, roamer.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}roamer_state_seconds`,
      help: "How long each roamer has been in its state.",
      labelNames: ["roamer"],
      registers,
      collect() {
        this.reset();
        for (const roamer of sourceNow()?.views() ?? []) this.set({ roamer: roamer.name }, roamer.stateAgeMs / 1000);
      },
    });
    const pools = new Gauge({
      name: `${PREFIX}pool_workers`,
      help: "Nodes that take each pool's work, ready or not (dedicated and lent roamers), by readiness.",
      labelNames: ["pool", "ready"],
      registers,
    });
    new Gauge({
      name: `${PREFIX}pool_demand`,
      help: "What each pool waits for: queued jobs and synchronous requests in the busy queue.",
      labelNames: ["pool", "source"],
      registers,
      async collect() {
        this.reset();
        pools.reset();
        for (const pool of (await sourceNow()?.poolViews()) ?? []) {
          this.set({ pool: pool.name, source: "jobs" }, pool.demand.queuedJobs);
          this.set({ pool: pool.name, source: "requests" }, pool.demand.waitingRequests);
          pools.set({ pool: pool.name, ready: "true" }, pool.workers.ready);
          pools.set({ pool: pool.name, ready: "false" }, pool.workers.total - pool.workers.ready);
        }
      },
    });
  }

  /** Read from this source at each scrape; null stops it. */
  readFrom(source: PoolSource | null): void {
    this.#source = source;
  }
}
