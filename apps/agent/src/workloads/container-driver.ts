// A container template: an image the agent's configuration lists, run with
// podman or docker through its CLI (docs/adr/0041), on the host's network so
// that its health URL is on this machine's loopback. Provisioning pulls the
// image when it is not in the engine's store, starts the container, and
// waits for the health URL; a container that exits after that fails the
// workload (`<engine> wait` tells, as a child process: no polling). Cleanup
// removes the container and keeps the image, the cache of the next run.
//
// Calls that change the container (run, stop, rm) go one at a time, in the
// order they were asked for: a stop asked for while `run` is creating the
// container waits for it, and then stops what it created.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { callEngine, engineSaid, type Engine, type EngineResult } from "./container-engine.ts";
import { askHealth, waitUntilHealthy, type HealthAnswer } from "./health-check.ts";
import type { ContainerTemplate } from "./template-config.ts";
import { FailureListeners, messageOf, notServingHealth, OneAtATime, RetriedOnce, type WorkloadDriver, type WorkloadLog } from "./workload-driver.ts";

export interface ContainerDriverOptions {
  /** The template's name: in the container's name and label, and the logs. */
  name: string;
  template: ContainerTemplate;
  /** The engine's environment before the template's engineEnv: PATH, and HOME and XDG_RUNTIME_DIR for a rootless podman. */
  engineEnv: Readonly<Record<string, string | undefined>>;
  log: WorkloadLog;
}

/** new → starting → serving → failed; stop() from any of them → stopped. */
type Phase = "new" | "starting" | "serving" | "failed" | "stopped";

/** An engine call that only reads or changes state (not a pull, not a stop) takes at most this long. */
const CALL_TIMEOUT_MS = 120_000;
/** Before watching again when `wait` ended while the container still runs (the engine restarted). */
const REWATCH_MS = 1_000;

export class ContainerDriver implements WorkloadDriver {
  readonly kind = "container";
  /** flotilla-<template>-<random>: several runs of one template (and a leftover of a crashed agent) never collide. */
  readonly containerName: string;
  readonly #o: ContainerDriverOptions;
  readonly #engine: Engine;
  #phase: Phase = "new";
  /** A `run` was issued: there may be a container to stop and remove. */
  #created = false;
  /** Aborted when provisioning cannot succeed any more: stopped, or the container exited. */
  #startup: AbortController | undefined;
  #watcher: ChildProcess | undefined;
  #failure: string | undefined;
  readonly #stopping = new RetriedOnce();
  readonly #removing = new RetriedOnce();
  /** The engine's or API's calls that change the workload (create, remove), one at a time. */
  readonly #exclusive = new OneAtATime();
  readonly #failureListeners = new FailureListeners();

  constructor(options: ContainerDriverOptions) {
    this.#o = options;
    this.containerName = `flotilla-${options.name}-${randomBytes(4).toString("hex")}`;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...options.engineEnv, ...options.template.engineEnv })) if (value !== undefined) env[key] = value;
    this.#engine = { program: options.template.engine, globalArgs: options.template.engineArgs ?? [], env };
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
    const ended = AbortSignal.any([signal, startup.signal]);
    onProgress(0, `looking for ${template.image}`);
    try {
      await this.#ensureImage(ended, onProgress);
      this.#throwIfEnded(signal);
      onProgress(0.5, `starting ${template.image} as ${this.containerName}`);
      await this.#exclusive.run(() => this.#run());
      this.#watch();
      this.#throwIfEnded(signal);
      onProgress(0.6, `waiting for ${template.health}`);
      await waitUntilHealthy(template.health, { timeoutMs: template.startTimeoutMs, signal, gaveUp: startup.signal });
      this.#throwIfEnded(signal);
    } catch (err) {
      // What it started goes: the container is removed (the image stays, as the cache).
      await this.cleanup().catch((cleanupErr: unknown) =>
        this.#o.log.warn({ template: this.#o.name, container: this.containerName, err: messageOf(cleanupErr) }, "container not removed after a failed provisioning"),
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
        const state = await this.#state();
        if (state?.running !== true) return { ok: false, message: `container ${this.containerName} is not running` };
        return askHealth(this.#o.template.health);
      }
      case "failed":
      case "stopped":
      case "new":
      case "starting":
        return notServingHealth(this.#phase, this.#failure);
    }
  }

  /** `stop -t <grace>`: the engine's SIGTERM, its SIGKILL after the grace. Safe at any time and more than once; a failed stop is tried again by the next call. */
  stop(): Promise<void> {
    return this.#stopping.run(() => this.#halt());
  }

  /** Stops it and removes the container (`rm -f`); the image is kept. */
  cleanup(): Promise<void> {
    return this.#removing.run(() => this.stop().then(() => this.#exclusive.run(() => this.#remove())));
  }

  async #ensureImage(ended: AbortSignal, onProgress: (fraction: number, message: string) => void): Promise<void> {
    const { image, pull, pullTimeoutMs } = this.#o.template;
    const found = await this.#call(["image", "inspect", "--format", "{{.Id}}", image]);
    if (found.code === 0) {
      onProgress(0.4, `${image} is in the engine's store`);
      return;
    }
    if (pull === "never") throw new Error(`image ${image} is not in the engine's store and the template's pull is "never" (${engineSaid(found)})`);
    ended.throwIfAborted();
    onProgress(0.1, `pulling ${image}`);
    this.#o.log.info({ template: this.#o.name, image }, "pulling container image");
    const pulled = await this.#call(["pull", image], { timeoutMs: pullTimeoutMs, signal: ended });
    if (pulled.code !== 0) throw new Error(`could not pull ${image}: ${engineSaid(pulled)}`);
    onProgress(0.4, `pulled ${image}`);
  }

  async #run(): Promise<void> {
    // Asked for after a stop (which ran first, the queue keeping order): nothing is created.
    if (this.#phase !== "starting") throw new Error("stopped while provisioning");
    const { template, name, log } = this.#o;
    this.#created = true;
    const env = Object.entries(template.env ?? {}).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
    const result = await this.#call([
      "run", "--detach", "--name", this.containerName, "--label", `flotilla.template=${name}`,
      // The host's network: it serves on this machine's loopback, as a process template does.
      "--network", "host",
      // Pulling was the step before, under the template's own rule.
      "--pull", "never",
      ...env, template.image, ...(template.command ?? []),
    ]);
    if (result.code !== 0) throw new Error(`could not start ${template.image}: ${engineSaid(result)}`);
    log.info({ template: name, container: this.containerName, image: template.image }, "workload container started");
  }

  /** `<engine> wait` ends when the container does; then what happened is asked (its exit code). */
  #watch(): void {
    if (this.#phase !== "starting" && this.#phase !== "serving") return;
    const { program, globalArgs, env } = this.#engine;
    const watcher = spawn(program, [...globalArgs, "wait", this.containerName], { env, stdio: "ignore" });
    this.#watcher = watcher;
    const ended = () => {
      if (this.#watcher !== watcher) return;
      this.#watcher = undefined;
      this.#exited().catch((err: unknown) => this.#o.log.warn({ template: this.#o.name, err: messageOf(err) }, "could not tell how a container ended"));
    };
    watcher.once("exit", ended);
    watcher.once("error", ended);
  }

  async #exited(): Promise<void> {
    if (this.#phase !== "starting" && this.#phase !== "serving") return;
    const state = await this.#state();
    if (this.#phase !== "starting" && this.#phase !== "serving") return;
    if (state?.running === true) {
      await delay(REWATCH_MS);
      if ((this.#phase === "starting" || this.#phase === "serving") && this.#watcher === undefined) this.#watch();
      return;
    }
    const how = state === undefined ? "is gone" : `exited with code ${state.exitCode}`;
    const { template, name, log } = this.#o;
    if (this.#phase === "starting") {
      this.#startup?.abort(new Error(`container ${this.containerName} ${how} before it answered ${template.health}`));
      return;
    }
    this.#phase = "failed";
    this.#failure = `container ${this.containerName} (${template.image}) ${how}`;
    log.warn({ template: name, container: this.containerName, how }, "workload container exited");
    this.#failureListeners.tell(this.#failure, log, name);
  }

  async #halt(): Promise<void> {
    this.#phase = "stopped";
    this.#startup?.abort(new Error("stopped while provisioning"));
    await this.#exclusive.run(async () => {
      if (!this.#created) return;
      const graceS = Math.ceil(this.#o.template.stopGraceMs / 1000);
      const result = await this.#call(["stop", "-t", String(graceS), this.containerName], { timeoutMs: graceS * 1000 + CALL_TIMEOUT_MS });
      // It was never created (run failed), or had exited already: stopped all the same.
      if (result.code !== 0 && (await this.#state())?.running === true) throw new Error(`could not stop ${this.containerName}: ${engineSaid(result)}`);
    });
    this.#watcher?.kill();
    this.#watcher = undefined;
    this.#o.log.info({ template: this.#o.name, container: this.containerName }, "workload container stopped");
  }

  async #remove(): Promise<void> {
    if (!this.#created) return;
    const result = await this.#call(["rm", "--force", this.containerName]);
    if (result.code !== 0 && (await this.#state()) !== undefined) throw new Error(`could not remove ${this.containerName}: ${engineSaid(result)}`);
    this.#created = false;
    this.#o.log.info({ template: this.#o.name, container: this.containerName }, "workload container removed");
  }

  /** Whether the container runs, and its exit code; undefined when there is no such container. */
  async #state(): Promise<{ running: boolean; exitCode: number } | undefined> {
    const result = await this.#call(["container", "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", this.containerName]);
    if (result.code !== 0) return undefined;
    const [running, exitCode] = result.stdout.trim().split(" ");
    return { running: running === "true", exitCode: Number(exitCode) };
  }

  #call(args: readonly string[], options: { timeoutMs: number; signal?: AbortSignal } = { timeoutMs: CALL_TIMEOUT_MS }): Promise<EngineResult> {
    return callEngine(this.#engine, args, options);
  }

  /** Runs `step` after every step asked for before it has settled. */

  #throwIfEnded(signal: AbortSignal): void {
    signal.throwIfAborted();
    this.#startup?.signal.throwIfAborted();
    if (this.#phase !== "starting") throw new Error("stopped while provisioning");
  }
}
