// The services of one process, started in stages and stopped together. The
// stop runs in the reverse of the start order: a service may use those started
// before it (the prober uses the connection pool, the gateway the store), so
// those are still there while it stops.
//
// Errors: a failing stop does not keep the others running, so all of them are
// tried and what failed is reported at the end. One error is rethrown as it
// is, so that the usual case reads as it did before there was a group; two or
// more come together in one AggregateError that names each service.
import type { Service } from "./service.ts";

interface Failure {
  service: string;
  during: "start" | "stop";
  error: unknown;
}

export class ServiceGroup {
  /** Started and not yet stopped, in the order they started. */
  readonly #running: Service[] = [];
  /** The stage being started, if any: the next stage and a stop wait for it. Never rejects. */
  #starting: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  /**
   * Starts `services` one after the other, after the stages started before.
   * If one fails, the group stops (this stage's services and the earlier
   * stages', latest first) and the promise rejects with the start's error,
   * together with any the stops raised. Once the group is stopping, a stage
   * starts nothing and rejects.
   */
  start(services: readonly Service[]): Promise<void> {
    const stage = this.#starting.then(() => this.#startEach(services));
    this.#starting = stage.catch(() => undefined);
    return stage;
  }

  /**
   * Stops every running service, latest first, each even if another failed.
   * Waits for a stage being started to finish first. The first call does the
   * work; every later call gets its outcome.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#starting.then(async () => {
      const failures = await this.#stopEach();
      if (failures.length > 0) throw reported(failures);
    });
    return this.#stopping;
  }

  async #startEach(services: readonly Service[]): Promise<void> {
    for (const service of services) {
      if (this.#stopping) throw new Error(`${service.name} was not started: its service group is stopping`);
      try {
        await service.start();
      } catch (error) {
        const failures = await this.#rollBack();
        throw reported([{ service: service.name, during: "start", error }, ...failures]);
      }
      this.#running.push(service);
    }
  }

  /**
   * Stops what was started after a start failed. The group counts as stopped
   * from here on: the start's rejection reports these errors, so a later
   * stop() has nothing left to do or to report.
   */
  #rollBack(): Promise<Failure[]> {
    const rollback = this.#stopEach();
    this.#stopping = rollback.then(() => undefined);
    return rollback;
  }

  /** Never rejects: each failure is kept and the next service stopped all the same. */
  async #stopEach(): Promise<Failure[]> {
    const failures: Failure[] = [];
    for (let service = this.#running.pop(); service !== undefined; service = this.#running.pop()) {
      try {
        await service.stop();
      } catch (error) {
        failures.push({ service: service.name, during: "stop", error });
      }
    }
    return failures;
  }
}

function reported(failures: readonly Failure[]): unknown {
  const [only] = failures;
  if (failures.length === 1 && only !== undefined) return only.error;
  const each = failures.map((f) => `${f.service} (${f.during}): ${f.error instanceof Error ? f.error.message : String(f.error)}`);
  return new AggregateError(failures.map((f) => f.error), `${failures.length} services failed: ${each.join("; ")}`);
}
