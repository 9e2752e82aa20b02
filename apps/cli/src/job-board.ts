// The lines `flotilla jobs watch` draws, one per job. On a terminal they
// are redrawn in place (the cursor goes back up over them); anywhere else
// (a pipe, a log, a test) each job gets a new line whenever what its line
// says changes, so the output reads as a history.
import { watchLine } from "./job-display.ts";
import { printable } from "./printable.ts";
import type { JobObject } from "@flotilla/protocol";

/** The part of a stream the board writes to. */
export interface BoardOutput {
  isTTY?: boolean;
  /** The terminal's width: a line that wrapped would throw the redraw off by a line. */
  columns?: number;
  write(text: string): boolean;
}

export class JobBoard {
  readonly #out: BoardOutput;
  readonly #ids: readonly string[];
  readonly #lines = new Map<string, string>();
  /** What was last written for each job, when not on a terminal. */
  readonly #printed = new Map<string, string>();
  /** Lines drawn on the terminal so far: how far up a redraw goes. */
  #drawn = 0;

  constructor(ids: readonly string[], out: BoardOutput) {
    this.#ids = ids;
    this.#out = out;
    for (const id of ids) this.#lines.set(id, printable(`${id} waiting for its first event`));
    if (this.#tty) this.#draw();
  }

  update(job: JobObject): void {
    this.#set(job.id, watchLine(job));
  }

  /** A line of the board's own (an error), in place of the job's. */
  note(id: string, text: string): void {
    this.#set(id, printable(text));
  }

  /** Leaves the terminal's cursor below the board. Idempotent. */
  finish(): void {
    this.#drawn = 0;
  }

  get #tty(): boolean {
    return this.#out.isTTY === true;
  }

  #set(id: string, line: string): void {
    if (!this.#lines.has(id)) return;
    this.#lines.set(id, line);
    if (this.#tty) {
      this.#draw();
      return;
    }
    if (this.#printed.get(id) === line) return;
    this.#printed.set(id, line);
    this.#out.write(`${line}\n`);
  }

  #draw(): void {
    const width = Math.max(20, (this.#out.columns ?? 80) - 1);
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const id of this.#ids) {
      const line = this.#lines.get(id) ?? "";
      text += `\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}\n`;
    }
    this.#drawn = this.#ids.length;
    this.#out.write(text);
  }
}
