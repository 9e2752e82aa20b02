// The roamer's side of a loan (issue 17): at most one assignment at a time,
// provisioned from a template this agent's own configuration lists (the
// coordinator sends a name, never what to run), reported as it goes, and
// torn down when released. The states are the protocol's (assignment.ts):
//
//   assign ─▶ provisioning ─▶ running ─▶ stopping ─▶ (none: clean and idle)
//                  │             │          ▲
//                  └─────────────┴─▶ failed ┘ release
//
// A failed assignment stays until it is released: what failed is reported,
// and the coordinator decides (it releases, then may assign again). Were
// stopping or cleaning up to fail, it is `failed` again, with why, and a
// later release tries again.
import { FlotillaError, type AssignmentReport, type AssignmentRequest, type WorkloadState } from "@flotilla/protocol";
import type { WorkloadTemplates, WorkloadTemplate } from "./template-config.ts";
import { messageOf, type WorkloadDriver, type WorkloadLog } from "./workload-driver.ts";

/** Makes the driver for one run of a template. */
export type DriverFactory = (name: string, template: WorkloadTemplate) => WorkloadDriver;

export interface AssignmentKeeperOptions {
  templates: WorkloadTemplates;
  createDriver: DriverFactory;
  log: WorkloadLog;
  /** The clock of stateAgeMs; default Date.now. */
  nowMs?: () => number;
}

/** The protocol's bound on a report's message. */
const MAX_MESSAGE = 1000;

interface Current {
  readonly request: AssignmentRequest;
  readonly driver: WorkloadDriver;
  readonly provisioning: AbortController;
  state: WorkloadState;
  sinceMs: number;
  progress: number | undefined;
  message: string | undefined;
  /** Settles (never rejects) once provision() has. */
  provisioned: Promise<void>;
  releasing: Promise<void> | undefined;
}

export class AssignmentKeeper {
  readonly #o: AssignmentKeeperOptions;
  readonly #nowMs: () => number;
  readonly #listeners: ((report: AssignmentReport | null) => void)[] = [];
  #current: Current | undefined;
  #closed = false;

  constructor(options: AssignmentKeeperOptions) {
    this.#o = options;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** The names of the templates this agent may be assigned, sorted. */
  templates(): string[] {
    return Object.keys(this.#o.templates).sort();
  }

  /** Called at every change of state, and with null once a released assignment is gone. */
  onChange(listener: (report: AssignmentReport | null) => void): void {
    this.#listeners.push(listener);
  }

  report(nowMs = this.#nowMs()): AssignmentReport | null {
    const current = this.#current;
    if (!current) return null;
    return {
      id: current.request.id,
      template: current.request.template,
      pool: current.request.pool,
      state: current.state,
      stateAgeMs: Math.max(0, Math.floor(nowMs - current.sinceMs)),
      ...(current.progress === undefined ? {} : { progress: current.progress }),
      ...(current.message === undefined ? {} : { message: current.message }),
    };
  }

  /**
   * Begins provisioning `request.template` for `request.pool` and returns the
   * report at once (provisioning). The same id again returns the current
   * report: a coordinator that retries a PUT provisions nothing twice.
   */
  assign(request: AssignmentRequest): AssignmentReport {
    const current = this.#current;
    if (current && current.request.id === request.id) {
      if (current.request.template !== request.template || current.request.pool !== request.pool) {
        throw new FlotillaError(
          "conflict",
          `assignment "${request.id}" is template "${current.request.template}" for pool "${current.request.pool}", not "${request.template}" for "${request.pool}"`,
          { param: "id" },
        );
      }
      return this.#reportOf(current);
    }
    const template = Object.hasOwn(this.#o.templates, request.template) ? this.#o.templates[request.template] : undefined;
    if (template === undefined) {
      throw new FlotillaError("not_found", `template "${request.template}" is not listed in this agent's configuration`, { param: "template" });
    }
    if (this.#closed) throw new FlotillaError("conflict", "this agent is shutting down");
    if (current) {
      throw new FlotillaError(
        "conflict",
        `this agent is assigned "${current.request.id}" (template "${current.request.template}" for pool "${current.request.pool}", ${current.state}): release it first`,
        { param: "id" },
      );
    }
    const next: Current = {
      request,
      driver: this.#o.createDriver(request.template, template),
      provisioning: new AbortController(),
      state: "provisioning",
      sinceMs: this.#nowMs(),
      progress: 0,
      message: undefined,
      provisioned: Promise.resolve(),
      releasing: undefined,
    };
    this.#current = next;
    next.driver.onFailure((message) => {
      if (this.#current === next && next.state === "running") this.#enter(next, "failed", message);
    });
    next.provisioned = this.#provision(next);
    this.#o.log.info({ assignment: request.id, template: request.template, pool: request.pool }, "assignment provisioning");
    this.#changed();
    return this.#reportOf(next);
  }

  /**
   * Stops and cleans up the assignment; resolves once it is gone (or failed
   * to go, which the report then says). Its state is `stopping` as soon as
   * this returns. Nothing assigned: resolves at once. Never rejects.
   */
  release(): Promise<void> {
    const current = this.#current;
    if (!current) return Promise.resolve();
    current.releasing ??= this.#tearDown(current);
    return current.releasing;
  }

  /** On shutdown: takes no assignment more, and releases the current one. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.release();
  }

  async #provision(current: Current): Promise<void> {
    try {
      await current.driver.provision(current.provisioning.signal, (fraction, message) => {
        if (this.#current !== current || current.state !== "provisioning") return;
        current.progress = Math.min(1, Math.max(0, fraction));
        current.message = bounded(message);
      });
      if (this.#current !== current || current.state !== "provisioning") return;
      this.#o.log.info({ assignment: current.request.id, template: current.request.template }, "assignment running");
      this.#enter(current, "running");
    } catch (err) {
      if (this.#current !== current || current.state !== "provisioning") return;
      this.#o.log.warn({ assignment: current.request.id, template: current.request.template, err: messageOf(err) }, "assignment failed to provision");
      this.#enter(current, "failed", messageOf(err));
    }
  }

  async #tearDown(current: Current): Promise<void> {
    this.#enter(current, "stopping");
    current.provisioning.abort(new Error("the assignment was released"));
    await current.provisioned;
    try {
      await current.driver.stop();
      await current.driver.cleanup();
    } catch (err) {
      this.#o.log.warn({ assignment: current.request.id, template: current.request.template, err: messageOf(err) }, "assignment could not be cleaned up");
      current.releasing = undefined;
      this.#enter(current, "failed", `could not be cleaned up: ${messageOf(err)}`);
      return;
    }
    this.#o.log.info({ assignment: current.request.id, template: current.request.template }, "assignment released");
    this.#current = undefined;
    this.#changed();
  }

  #enter(current: Current, state: WorkloadState, message?: string): void {
    current.state = state;
    current.sinceMs = this.#nowMs();
    current.progress = undefined;
    current.message = message === undefined ? undefined : bounded(message);
    this.#changed();
  }

  #reportOf(current: Current): AssignmentReport {
    const report = this.report();
    // Only ever called with the current assignment.
    if (report === null || report.id !== current.request.id) throw new Error("the assignment changed under its report");
    return report;
  }

  #changed(): void {
    const report = this.report();
    for (const listener of this.#listeners) {
      try {
        listener(report);
      } catch (err) {
        this.#o.log.warn({ err: messageOf(err) }, "an assignment listener threw");
      }
    }
  }
}

function bounded(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}
