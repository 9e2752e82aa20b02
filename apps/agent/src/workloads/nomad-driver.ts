// A nomad template: a job this agent submits to a Nomad agent's HTTP API,
// from a job file its own configuration names (docs/adr/0041): the
// coordinator sends a template name, never a job spec. Provisioning
// registers the file as it is, waits for one of this registration's
// allocations to run (an ended one fails it, with Nomad's reason), then for
// the health URL. Once serving, the allocation is asked after every second:
// its leaving "running" fails the workload. Stop deregisters the job and
// waits for its allocations to stop; cleanup purges it, so that Nomad
// forgets it.
//
// Registering and deregistering go one at a time, in the order asked for: a
// stop asked for while the registration is in flight deregisters after it,
// and so never before a job it would then leave running.
import { setTimeout as delay } from "node:timers/promises";
import { askHealth, waitUntilHealthy, type HealthAnswer } from "./health-check.ts";
import { anyActive, startVerdict, stillRunning } from "./nomad-allocations.ts";
import { NomadApi, NomadApiError, readJobFile } from "./nomad-api.ts";
import type { NomadTemplate } from "./template-config.ts";
import { FailureListeners, messageOf, notServingHealth, OneAtATime, RetriedOnce, type WorkloadDriver, type WorkloadLog } from "./workload-driver.ts";

export interface NomadDriverOptions {
  /** The template's name, for the logs. */
  name: string;
  template: NomadTemplate;
  /** The agent's environment, where tokenEnv is looked up when it provisions (a rotated token is read anew). */
  env: Readonly<Record<string, string | undefined>>;
  log: WorkloadLog;
}

/** new → starting → serving → failed; stop() from any of them → stopped. */
type Phase = "new" | "starting" | "serving" | "failed" | "stopped";

/** Between two questions while the job starts or stops. */
const POLL_MS = 250;
/** Between two questions while it serves. */
const WATCH_MS = 1_000;
/** A deregistration or purge (each call is bounded too). */
const STOP_CALL_TIMEOUT_MS = 30_000;

interface Submitted {
  api: NomadApi;
  jobId: string;
}

export class NomadDriver implements WorkloadDriver {
  readonly kind = "nomad";
  readonly #o: NomadDriverOptions;
  #phase: Phase = "new";
  /** Set before the registration is sent: one that timed out may still have registered the job. */
  #submitted: Submitted | undefined;
  #allocationId: string | undefined;
  /** Aborted when provisioning cannot succeed any more: stopped, or the allocation ended. */
  #startup: AbortController | undefined;
  /** Ends the watch of the allocation. */
  #watching: AbortController | undefined;
  #failure: string | undefined;
  readonly #stopping = new RetriedOnce();
  readonly #purging = new RetriedOnce();
  /** The engine's or API's calls that change the workload (create, remove), one at a time. */
  readonly #exclusive = new OneAtATime();
  readonly #failureListeners = new FailureListeners();

  constructor(options: NomadDriverOptions) {
    this.#o = options;
  }

  onFailure(listener: (message: string) => void): void {
    this.#failureListeners.add(listener);
  }

  async provision(signal: AbortSignal, onProgress: (fraction: number, message: string) => void): Promise<void> {
    if (this.#phase !== "new") throw new Error("a driver provisions once: make another for another run");
    signal.throwIfAborted();
    const { template } = this.#o;
    this.#phase = "starting";
    const startup = new AbortController();
    this.#startup = startup;
    const startedAt = performance.now();
    onProgress(0, `reading ${template.job}`);
    try {
      const job = await readJobFile(template.job);
      const api = new NomadApi({ address: template.address, token: this.#token(), namespace: job.namespace });
      this.#throwIfEnded(signal);
      onProgress(0.1, `submitting job ${job.id} to ${template.address}`);
      const { jobModifyIndex } = await this.#exclusive.run(() => this.#register(api, job.id, job.text, AbortSignal.any([signal, startup.signal])));
      this.#throwIfEnded(signal);
      onProgress(0.3, `waiting for an allocation of job ${job.id} to run`);
      const allocationId = await this.#untilRunning(api, job.id, jobModifyIndex, { signal, gaveUp: startup.signal, startedAt });
      this.#allocationId = allocationId;
      this.#throwIfEnded(signal);
      this.#watch(api, job.id, allocationId);
      onProgress(0.7, `waiting for ${template.health}`);
      const leftMs = Math.max(1, Math.round(template.startTimeoutMs - (performance.now() - startedAt)));
      await waitUntilHealthy(template.health, { timeoutMs: leftMs, signal, gaveUp: startup.signal });
      this.#throwIfEnded(signal);
    } catch (err) {
      // What it submitted goes: the job is deregistered and purged.
      await this.cleanup().catch((cleanupErr: unknown) =>
        this.#o.log.warn({ template: this.#o.name, err: messageOf(cleanupErr) }, "nomad job not purged after a failed provisioning"),
      );
      throw err;
    } finally {
      this.#startup = undefined;
    }
    this.#phase = "serving";
    onProgress(1, `healthy at ${template.health}`);
  }

  async health(): Promise<HealthAnswer> {
    switch (this.#phase) {
      case "serving": {
        const submitted = this.#submitted;
        const allocationId = this.#allocationId;
        if (submitted === undefined || allocationId === undefined) return { ok: false, message: "not provisioned" };
        try {
          const running = stillRunning(await submitted.api.allocations(submitted.jobId, AbortSignal.timeout(STOP_CALL_TIMEOUT_MS)), allocationId);
          return running.ok ? askHealth(this.#o.template.health) : running;
        } catch (err) {
          return { ok: false, message: messageOf(err) };
        }
      }
      case "failed":
      case "stopped":
      case "new":
      case "starting":
        return notServingHealth(this.#phase, this.#failure);
    }
  }

  /** Deregisters the job and waits (stopGraceMs at most) until no allocation of it runs. Safe at any time; a failed stop is tried again by the next call. */
  stop(): Promise<void> {
    return this.#stopping.run(() => this.#halt());
  }

  /** Stops it, and purges the job: Nomad forgets it (the job file stays the agent's). */
  cleanup(): Promise<void> {
    return this.#purging.run(() => this.stop().then(() => this.#exclusive.run(() => this.#purge())));
  }

  /** The ACL token from the variable tokenEnv names; a template that names one and finds it unset fails, rather than go anonymous. */
  #token(): string | undefined {
    const { tokenEnv } = this.#o.template;
    if (tokenEnv === undefined) return undefined;
    const token = this.#o.env[tokenEnv];
    if (token === undefined || token.length === 0) throw new Error(`the environment variable ${tokenEnv} (the template's tokenEnv) is not set`);
    return token;
  }

  async #register(api: NomadApi, jobId: string, text: string, signal: AbortSignal): Promise<{ jobModifyIndex: number }> {
    // Asked for after a stop (which ran first, the queue keeping order): nothing is registered.
    if (this.#phase !== "starting") throw new Error("stopped while provisioning");
    this.#submitted = { api, jobId };
    const registered = await api.register(text, signal);
    this.#o.log.info({ template: this.#o.name, job: jobId, address: this.#o.template.address }, "nomad job registered");
    return registered;
  }

  /** Asks for this registration's allocations until one runs; one that ended, or the deadline, fails it. */
  async #untilRunning(
    api: NomadApi,
    jobId: string,
    registeredAt: number,
    { signal, gaveUp, startedAt }: { signal: AbortSignal; gaveUp: AbortSignal; startedAt: number },
  ): Promise<string> {
    const { startTimeoutMs } = this.#o.template;
    const deadline = AbortSignal.timeout(Math.max(1, Math.round(startTimeoutMs - (performance.now() - startedAt))));
    const ended = AbortSignal.any([signal, gaveUp, deadline]);
    let last = "no allocation yet";
    try {
      for (;;) {
        try {
          const verdict = startVerdict(await api.allocations(jobId, ended), registeredAt);
          if (verdict.state === "running") return verdict.allocationId;
          if (verdict.state === "failed") throw new Error(`job ${jobId}: ${verdict.message}`);
          last = verdict.last;
        } catch (err) {
          // Nomad not answering (an agent restarting) is waited out, within the deadline; what it refuses is final.
          if (!(err instanceof NomadApiError && err.status === undefined)) throw err;
          last = err.message;
        }
        await delay(POLL_MS, undefined, { signal: ended });
      }
    } catch (err) {
      signal.throwIfAborted();
      gaveUp.throwIfAborted();
      if (deadline.aborted) throw new Error(`job ${jobId} has no running allocation within ${startTimeoutMs} ms (${last})`, { cause: err });
      throw err;
    }
  }

  /** Asks after the allocation every WATCH_MS until it stops or leaves "running". */
  #watch(api: NomadApi, jobId: string, allocationId: string): void {
    const watching = new AbortController();
    this.#watching = watching;
    const loop = async () => {
      while (!watching.signal.aborted) {
        await delay(WATCH_MS, undefined, { signal: watching.signal });
        let verdict: ReturnType<typeof stillRunning>;
        try {
          verdict = stillRunning(await api.allocations(jobId, watching.signal), allocationId);
        } catch (err) {
          // Not knowing is no failure: health() says Nomad does not answer, and the next round asks again.
          if (!watching.signal.aborted) this.#o.log.debug({ template: this.#o.name, job: jobId, err: messageOf(err) }, "nomad allocation not checked");
          continue;
        }
        if (!verdict.ok && !watching.signal.aborted) return this.#left(`job ${jobId}: ${verdict.message}`);
      }
    };
    loop().catch(() => {
      // Aborted: stopped.
    });
  }

  #left(message: string): void {
    const { name, log } = this.#o;
    this.#watching?.abort();
    if (this.#phase === "starting") {
      this.#startup?.abort(new Error(`${message} before it answered ${this.#o.template.health}`));
      return;
    }
    if (this.#phase !== "serving") return;
    this.#phase = "failed";
    this.#failure = message;
    log.warn({ template: name, message }, "nomad allocation left running");
    this.#failureListeners.tell(message, log, name);
  }

  async #halt(): Promise<void> {
    this.#phase = "stopped";
    this.#startup?.abort(new Error("stopped while provisioning"));
    this.#watching?.abort();
    await this.#exclusive.run(async () => {
      const submitted = this.#submitted;
      if (submitted === undefined) return;
      const { api, jobId } = submitted;
      await api.deregister(jobId, false, AbortSignal.timeout(STOP_CALL_TIMEOUT_MS));
      const { stopGraceMs } = this.#o.template;
      const deadline = performance.now() + stopGraceMs;
      while (anyActive(await api.allocations(jobId, AbortSignal.timeout(STOP_CALL_TIMEOUT_MS)))) {
        if (performance.now() >= deadline) throw new Error(`job ${jobId} still has an allocation running ${stopGraceMs} ms after it was stopped`);
        await delay(POLL_MS);
      }
      this.#o.log.info({ template: this.#o.name, job: jobId }, "nomad job stopped");
    });
  }

  async #purge(): Promise<void> {
    const submitted = this.#submitted;
    if (submitted === undefined) return;
    await submitted.api.deregister(submitted.jobId, true, AbortSignal.timeout(STOP_CALL_TIMEOUT_MS));
    this.#submitted = undefined;
    this.#o.log.info({ template: this.#o.name, job: submitted.jobId }, "nomad job purged");
  }

  /** Runs `step` after every step asked for before it has settled. */

  #throwIfEnded(signal: AbortSignal): void {
    signal.throwIfAborted();
    this.#startup?.signal.throwIfAborted();
    if (this.#phase !== "starting") throw new Error("stopped while provisioning");
  }
}
