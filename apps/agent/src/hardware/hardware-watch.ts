// Hardware is reported at join and again when it changes (a GPU appears or
// disappears, a driver update renames it, the model disk fills up). The
// agent re-detects every minute and sends the whole report with the next
// heartbeat only when something meaningful differs. Available RAM is left out
// of the comparison (every heartbeat carries it in `load`), and free disk and
// GPU memory count in whole GiB, so ordinary churn is not a "change".
import type { Service } from "@flotilla/lifecycle";
import type { HardwareInfo } from "@flotilla/protocol";

const GIB = 2 ** 30;

/** The fields whose change is worth a new report. */
export function hardwareFingerprint(h: HardwareInfo): string {
  return JSON.stringify({
    cpu: h.cpu,
    memoryTotal: h.memory.totalBytes,
    gpus: h.gpus.map((g) => ({ ...g, memoryFreeBytes: g.memoryFreeBytes === null ? null : Math.floor(g.memoryFreeBytes / GIB) })),
    disk: { path: h.disk.path, freeGiB: h.disk.freeBytes === null ? null : Math.floor(h.disk.freeBytes / GIB) },
    os: h.os,
    jetson: h.jetson,
    hardwareType: h.hardwareType,
  });
}

/** How often the watch detects again, and where a failed detection goes (the watch carries on). */
export interface HardwareWatchSchedule {
  everyMs: number;
  onError: (err: unknown) => void;
}

export class HardwareWatch implements Service {
  readonly name = "hardware watch";
  #current: HardwareInfo;
  #sentFingerprint: string | null = null;
  readonly #detect: () => Promise<HardwareInfo>;
  readonly #schedule: HardwareWatchSchedule;
  #timer: NodeJS.Timeout | undefined;

  constructor(initial: HardwareInfo, detect: () => Promise<HardwareInfo>, schedule: HardwareWatchSchedule) {
    this.#current = initial;
    this.#detect = detect;
    this.#schedule = schedule;
  }

  get current(): HardwareInfo {
    return this.#current;
  }

  /** The report to attach to the next heartbeat, or undefined when the coordinator has it. */
  pending(): HardwareInfo | undefined {
    return hardwareFingerprint(this.#current) === this.#sentFingerprint ? undefined : this.#current;
  }

  /** The coordinator accepted a heartbeat that carried `sent`. */
  delivered(sent: HardwareInfo): void {
    this.#sentFingerprint = hardwareFingerprint(sent);
  }

  /** The coordinator may have forgotten us (restart, lost store): send it again. */
  forget(): void {
    this.#sentFingerprint = null;
  }

  async refresh(): Promise<void> {
    this.#current = await this.#detect();
  }

  start(): void {
    const { everyMs, onError } = this.#schedule;
    this.#timer = setInterval(() => this.refresh().catch(onError), everyMs);
    // Re-detection alone never keeps the process alive.
    this.#timer.unref();
  }

  /** A detection already running is not waited for: its result only matters to a heartbeat, and none is sent after stop. */
  stop(): Promise<void> {
    clearInterval(this.#timer);
    return Promise.resolve();
  }
}
