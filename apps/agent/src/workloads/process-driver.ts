// A process template: a program the agent starts (its argv, never through a
// shell) and supervises. It is healthy once its health URL answers 2xx; if it
// exits on its own later it is started again, within its restart budget,
// and past that the workload has failed. It runs in a process group of its
// own, so that stopping it stops what it started too.
//
// Its environment is PATH and what the template lists, nothing else: the
// agent's own variables (HF_TOKEN, a join token) are not its business. Its
// output goes to the agent's log at debug level and nowhere else.
//
// A template with `serve` names the models the program serves on its
// OpenAI-compatible API: once it is healthy each is served by the agent as
// its own (backends/openai-upstream.ts), until it is stopped or fails.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import type { Agent } from "../agent.ts";
import { OpenAIUpstreamBackend } from "../backends/openai-upstream.ts";
import { askHealth, waitUntilHealthy, type HealthAnswer } from "./health-check.ts";
import { mayRestart, restartsInWindow } from "./restart-budget.ts";
import { watchMemory } from "./memory-watch.ts";
import type { ProcessTemplate } from "./template-config.ts";
import { FailureListeners, type WorkloadDriver, type WorkloadLog } from "./workload-driver.ts";

export interface ProcessDriverOptions {
  /** The template's name, for the logs. */
  name: string;
  template: ProcessTemplate;
  /** The agent's PATH: the one variable of its environment the program gets. */
  path: string | undefined;
  log: WorkloadLog;
  /** The restart budget's clock; default Date.now. */
  nowMs?: () => number;
  /** Where the models of the template's `serve` are served; required when it has one. */
  agent?: Pick<Agent, "addBackend" | "removeBackend">;
  /** How long running requests may take to finish once stopped; default the agent's. */
  drainMs?: number;
  /** How often the program's memory is read against maxMemoryMiB; default 1 s. */
  memoryCheckMs?: number;
}

/** new → starting → serving ⇄ (restarted) → failed; stop() from any of them → stopped. */
type Phase = "new" | "starting" | "serving" | "failed" | "stopped";

/** A line of output longer than this is cut in the log. */
const MAX_LOGGED_LINE = 2_000;

export class ProcessDriver implements WorkloadDriver {
  readonly kind = "process";
  readonly #o: ProcessDriverOptions;
  readonly #nowMs: () => number;
  #phase: Phase = "new";
  #child: ChildProcess | undefined;
  /** Aborted when the program exits before it was healthy: provisioning stops waiting. */
  #startup: AbortController | undefined;
  #restartedAtMs: number[] = [];
  #failure: string | undefined;
  #stopping: Promise<void> | undefined;
  readonly #failureListeners = new FailureListeners();
  readonly #restartListeners: ((pid: number | undefined) => void)[] = [];
  /** The models of `serve` the agent serves now. */
  #served: string[] = [];
  /** Stops the memory watch of the program running now. */
  #unwatch: (() => void) | undefined;
  /** Set when the watch killed the program: what its exit is reported as. */
  #killedFor: string | undefined;

  constructor(options: ProcessDriverOptions) {
    this.#o = options;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** The running program's process id (the leader of its group). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Called each time the program was started again after it exited on its own. */
  onRestart(listener: (pid: number | undefined) => void): void {
    this.#restartListeners.push(listener);
  }

  onFailure(listener: (message: string) => void): void {
    this.#failureListeners.add(listener);
  }

  async provision(signal: AbortSignal, onProgress: (fraction: number, message: string) => void): Promise<void> {
    if (this.#phase !== "new") throw new Error("a driver provisions once: make another for another run");
    signal.throwIfAborted();
    const { template } = this.#o;
    if (template.serve !== undefined && this.#o.agent === undefined) throw new Error("a template that serves models needs the agent to serve them");
    this.#phase = "starting";
    this.#startup = new AbortController();
    onProgress(0, `starting ${template.command[0] ?? "the program"}`);
    this.#spawn();
    try {
      await waitUntilHealthy(template.health, { timeoutMs: template.startTimeoutMs, signal, gaveUp: this.#startup.signal });
      if (this.#phase !== "starting") throw new Error("stopped while provisioning");
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      this.#startup = undefined;
    }
    this.#phase = "serving";
    try {
      this.#serve();
    } catch (err) {
      await this.stop();
      throw err;
    }
    onProgress(1, this.#served.length === 0 ? `healthy at ${template.health}` : `serving ${this.#served.join(", ")}`);
  }

  /** Adds a backend for each model of `serve`; if one cannot be added, provision's stop() removes those that were. */
  #serve(): void {
    const { serve } = this.#o.template;
    const agent = this.#o.agent;
    if (serve === undefined || agent === undefined) return;
    for (const m of serve.models) {
      const backend = new OpenAIUpstreamBackend({
        modelId: m.id,
        upstreamModel: m.upstreamModel ?? m.id,
        url: serve.url,
        contextSize: m.contextSize,
        slots: m.slots,
        capabilities: m.capabilities,
      });
      agent.addBackend(backend, Date.now());
      this.#served.push(m.id);
    }
    this.#o.log.info({ template: this.#o.name, models: this.#served, url: serve.url }, "workload program's models served");
  }

  /** Stops serving its models: new requests are refused, running ones get drainMs to finish. */
  async #unserve(): Promise<void> {
    const ids = this.#served;
    this.#served = [];
    const agent = this.#o.agent;
    if (agent === undefined || ids.length === 0) return;
    await Promise.all(ids.map((id) => agent.removeBackend(id, this.#o.drainMs)));
  }

  health(): Promise<HealthAnswer> {
    switch (this.#phase) {
      case "serving":
        return askHealth(this.#o.template.health);
      case "failed":
        return Promise.resolve({ ok: false, message: this.#failure ?? "failed" });
      case "stopped":
        return Promise.resolve({ ok: false, message: this.#failure ?? "stopped" });
      case "new":
      case "starting":
        return Promise.resolve({ ok: false, message: "not provisioned" });
    }
  }

  /** SIGTERM to its process group, SIGKILL after stopGraceMs. Safe at any time, and more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#terminate();
    return this.#stopping;
  }

  /** A program leaves nothing behind here once it is stopped (what it writes itself is its own, like a cache). */
  cleanup(): Promise<void> {
    return this.stop();
  }

  #spawn(): void {
    const { template, name, log } = this.#o;
    const [program = "", ...args] = template.command;
    const child = spawn(program, args, {
      env: { ...(this.#o.path === undefined ? {} : { PATH: this.#o.path }), ...template.env },
      ...(template.cwd === undefined ? {} : { cwd: template.cwd }),
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that a stop reaches what it started.
      detached: true,
    });
    this.#child = child;
    let ended = false;
    const end = (how: string) => {
      if (ended) return;
      ended = true;
      this.#exited(child, how);
    };
    child.once("exit", (code, signal) => end(code !== null ? `exited with code ${code}` : `was killed by ${signal ?? "a signal"}`));
    child.once("error", (err) => end(`could not be started: ${err.message}`));
    for (const stream of ["stdout", "stderr"] as const) {
      createInterface({ input: child[stream], crlfDelay: Infinity }).on("line", (line) =>
        log.debug({ template: name, pid: child.pid, stream, line: line.slice(0, MAX_LOGGED_LINE) }, "workload output"),
      );
    }
    log.info({ template: name, pid: child.pid, program }, "workload program started");
    this.#watchMemoryOf(child);
  }

  #watchMemoryOf(child: ChildProcess): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    const limitMiB = this.#o.template.maxMemoryMiB;
    const pid = child.pid;
    if (limitMiB === undefined || pid === undefined) return;
    this.#unwatch = watchMemory(pid, limitMiB * 2 ** 20, this.#o.memoryCheckMs ?? 1_000, (rss) => {
      if (child !== this.#child) return;
      this.#killedFor = `used ${Math.round(rss / 2 ** 20)} MiB, over its ${limitMiB} MiB limit`;
      this.#o.log.warn({ template: this.#o.name, pid, rssBytes: rss, limitMiB }, "workload program over its memory limit: killing it");
      signalGroup(pid, "SIGKILL");
    });
  }

  #exited(child: ChildProcess, exitedHow: string): void {
    if (child !== this.#child) return;
    this.#child = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    const how = this.#killedFor === undefined ? exitedHow : `was killed: it ${this.#killedFor}`;
    this.#killedFor = undefined;
    const { template, name, log } = this.#o;
    const program = template.command[0] ?? "the program";
    switch (this.#phase) {
      case "starting":
        this.#startup?.abort(new Error(`${program} ${how} before it answered ${template.health}`));
        return;
      case "serving": {
        const nowMs = this.#nowMs();
        const budget = { restarts: template.restarts, windowMs: template.restartWindowMs };
        if (mayRestart(this.#restartedAtMs, nowMs, budget)) {
          this.#restartedAtMs = [...restartsInWindow(this.#restartedAtMs, nowMs, budget), nowMs];
          log.warn({ template: name, how, restart: this.#restartedAtMs.length, of: template.restarts }, "workload program exited; starting it again");
          this.#spawn();
          // (Read through the getter: the compiler cannot see that #spawn set #child.)
          for (const listener of this.#restartListeners) listener(this.pid);
          return;
        }
        this.#phase = "failed";
        // Nothing answers for its models any more.
        void this.#unserve();
        this.#failure = `${program} ${how}, after ${template.restarts} restart(s) within ${template.restartWindowMs / 1000} s, its budget`;
        log.warn({ template: name, how }, "workload program failed past its restart budget");
        this.#failureListeners.tell(this.#failure, log, name);
        return;
      }
      case "new":
      case "failed":
      case "stopped":
        return;
    }
  }

  async #terminate(): Promise<void> {
    this.#phase = "stopped";
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#startup?.abort(new Error("stopped while provisioning"));
    // Its models first: running requests finish (bounded) while the program still runs.
    await this.#unserve();
    const child = this.#child;
    const pid = child?.pid;
    if (child === undefined || pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      signalGroup(pid, "SIGTERM");
      const graceOver = new AbortController();
      const stopped = await Promise.race([
        exited.then(() => true),
        delay(this.#o.template.stopGraceMs, false, { signal: graceOver.signal }).catch(() => false),
      ]);
      graceOver.abort();
      if (!stopped) {
        this.#o.log.warn({ template: this.#o.name, pid, graceMs: this.#o.template.stopGraceMs }, "workload program ignored SIGTERM; killing it");
        signalGroup(pid, "SIGKILL");
        await exited;
      }
    }
    // What it started and left running goes with it.
    signalGroup(pid, "SIGKILL");
    this.#child = undefined;
    this.#o.log.info({ template: this.#o.name, pid }, "workload program stopped");
  }
}

function signalGroup(leader: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-leader, signal);
  } catch (err) {
    // ESRCH: nothing of that group is left.
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}
