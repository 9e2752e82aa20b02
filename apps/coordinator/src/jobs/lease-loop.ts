// The worker half every job runner shares: lease jobs of some kinds while
// there is room, run each with a signal, renew its lease every leaseMs/3,
// and abort the run when the job is cancelled, its lease is lost or the
// runner stops. What a run does is the runner's (job-runner.ts dispatches a
// text job, split/split-runner.ts fans a split run out into chunks).
import type { Job, JobKind } from "./job.ts";
import type { JobQueue, Lease } from "./job-queue.ts";

export interface LeaseLoopLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface LeaseLoopOptions {
  queue: JobQueue;
  /** The kinds to lease, asked before each lease: a kind no node serves now is left queued, with its place. */
  kinds: () => readonly JobKind[];
  /** The pools to lease from, asked before each round. */
  pools: () => readonly string[];
  workerId: string;
  leaseMs: number;
  /** Jobs run at once; more wait in the queue, where they keep their place and position. */
  concurrency: number;
  log: LeaseLoopLog;
  /** How often to look for work besides being woken by the queue: backoffs ending, other coordinators' jobs. */
  pollMs?: number;
  /** Runs one leased job until it is settled or `signal` aborts; the lease is renewed meanwhile. */
  work: (lease: Lease, signal: AbortSignal) => Promise<void>;
}

interface Run {
  controller: AbortController;
  job: Job;
}

export class LeaseLoop {
  readonly #o: LeaseLoopOptions;
  readonly #running = new Map<string, Run>();
  readonly #settling = new Set<Promise<void>>();
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #pumpAgain = false;
  #stopped = true;

  constructor(options: LeaseLoopOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#unsubscribe = this.#o.queue.subscribe((change) => {
      if (change.type !== "state") return;
      if (change.job.state === "cancelled") this.#running.get(change.job.id)?.controller.abort(new Error("the job was cancelled"));
      // Enqueued, retried or expired: there may be work to lease.
      if (change.job.state === "queued" && this.#o.kinds().includes(change.job.kind)) this.pump();
    });
    this.#timer = setInterval(() => this.pump(), this.#o.pollMs ?? 1000);
    this.#timer.unref();
    this.pump();
  }

  /** Aborts what runs; its leases expire and the jobs run again after a restart (at least once). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    for (const run of this.#running.values()) run.controller.abort(new Error("the coordinator is stopping"));
    await Promise.allSettled([...this.#settling]);
  }

  /** The jobs running now. */
  running(): Job[] {
    return [...this.#running.values()].map((run) => run.job);
  }

  /** Leases while there is room; one pump at a time, and a wake during one runs another after it. */
  pump(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#fill()
      .catch((err: unknown) => this.#o.log.warn({ err }, "could not lease jobs"))
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.pump();
        }
      });
  }

  async #fill(): Promise<void> {
    let leasedAny = true;
    // Round-robin over the pools, one lease each per round, so one busy pool cannot starve another.
    while (leasedAny && !this.#stopped && this.#running.size < this.#o.concurrency) {
      leasedAny = false;
      for (const pool of this.#o.pools()) {
        if (this.#stopped || this.#running.size >= this.#o.concurrency) return;
        const kinds = this.#o.kinds();
        if (kinds.length === 0) return;
        const lease = await this.#o.queue.lease({ pool, kinds, workerId: this.#o.workerId, leaseMs: this.#o.leaseMs });
        if (lease === null) continue;
        // Stopped while leasing: the lease is left to expire, and the job runs after the restart.
        if (this.#stopped) return;
        leasedAny = true;
        this.#run(lease);
      }
    }
  }

  #run(lease: Lease): void {
    const run: Run = { controller: new AbortController(), job: lease.job };
    this.#running.set(lease.job.id, run);
    const settled = this.#renewWhile(lease, run)
      .catch((err: unknown) => this.#o.log.warn({ err, job: lease.job.id }, "a job's run failed unexpectedly"))
      .finally(() => {
        this.#running.delete(lease.job.id);
        this.#settling.delete(settled);
        this.pump();
      });
    this.#settling.add(settled);
  }

  async #renewWhile(lease: Lease, run: Run): Promise<void> {
    const { job, token } = lease;
    const renewal = setInterval(() => {
      void this.#o.queue.renew(job.id, token, this.#o.leaseMs).then(
        (outcome) => {
          if (outcome.status !== "ok") run.controller.abort(new Error(`the lease is ${outcome.status}`));
        },
        (err: unknown) => this.#o.log.warn({ err, job: job.id }, "could not renew a job's lease"),
      );
    }, Math.max(1, Math.floor(this.#o.leaseMs / 3)));
    try {
      await this.#o.work(lease, run.controller.signal);
    } finally {
      clearInterval(renewal);
    }
  }
}
