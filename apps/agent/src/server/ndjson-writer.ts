// Newline-delimited JSON events to the coordinator, written in batches: a
// small model makes a token every half millisecond, and node-llama-cpp's
// worker waits while the main thread writes. One chunked socket write per
// token was the largest part of the agent's overhead; batching took the
// real-inference ratio from 0.75× to 0.82× (`npm run bench`, BENCHMARKS.md).
// Lines queued within one turn of the event loop go out as one write.
import type { ServerResponse } from "node:http";

export class NdjsonWriter {
  readonly #res: ServerResponse;
  #pending = "";
  #scheduled = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  send(event: unknown): void {
    this.#pending += `${JSON.stringify(event)}\n`;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  /** Writes what is pending and ends the response. */
  end(): void {
    const rest = this.#pending;
    this.#pending = "";
    this.#res.end(rest);
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#pending === "" || this.#res.writableEnded || this.#res.destroyed) return;
    this.#res.write(this.#pending);
    this.#pending = "";
  }
}
