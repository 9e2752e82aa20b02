// Server-sent events, as the WHATWG spec frames them, reduced to what the
// CLI reads: the data of each event. Text goes in as it arrives, in pieces
// cut anywhere; each complete event's data comes out. Comments (`:`), and
// the event, id and retry fields, are skipped. Pure.

/** One event's data is held whole before it is parsed: a job's event is a few KiB, this bounds a hostile one. */
export const MAX_EVENT_CHARS = 4 * 1024 * 1024;

export class SseDataReader {
  #buffer = "";
  #data: string[] = [];
  #size = 0;
  /** A CR at the end of the last piece: a LF starting the next belongs to it. */
  #afterCr = false;

  /** The data of every event that `text` completes, in order. Throws when one event outgrows MAX_EVENT_CHARS. */
  push(text: string): string[] {
    let input = text;
    if (this.#afterCr && input.startsWith("\n")) input = input.slice(1);
    this.#afterCr = input.endsWith("\r");
    this.#buffer += input;
    const done: string[] = [];
    // A line ends at CRLF, LF or CR.
    const lines = this.#buffer.split(/\r\n|\n|\r/);
    this.#buffer = lines.pop() ?? "";
    if (this.#buffer.length + this.#size > MAX_EVENT_CHARS) throw new RangeError(`an event is over ${MAX_EVENT_CHARS} characters`);
    for (const line of lines) {
      if (line === "") {
        if (this.#data.length > 0) done.push(this.#data.join("\n"));
        this.#data = [];
        this.#size = 0;
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      if (field !== "data") continue;
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      this.#size += value.length + 1;
      if (this.#size > MAX_EVENT_CHARS) throw new RangeError(`an event is over ${MAX_EVENT_CHARS} characters`);
      this.#data.push(value);
    }
    return done;
  }
}
