// Ollama's streams: one JSON object a line, `application/x-ndjson`. The head
// is written lazily, on the first line, so that a failure before any text
// (an unknown model, every node busy) still gets its own status and
// `{"error": ...}` body; a failure after it is one more line, `{"error": ...}`,
// which Ollama's clients throw as an error.
import type { ServerResponse } from "node:http";

export class NdjsonStream {
  readonly #res: ServerResponse;
  #headers: Record<string, string> = {};
  #started = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  /** More headers for the head (the routing headers); ignored once it is out. */
  addHeaders(headers: Record<string, string>): void {
    if (!this.#started) this.#headers = { ...this.#headers, ...headers };
  }

  get started(): boolean {
    return this.#started;
  }

  send(line: unknown): void {
    if (!this.#started) {
      this.#started = true;
      this.#res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache", "x-accel-buffering": "no", ...this.#headers });
    }
    this.#res.write(`${JSON.stringify(line)}\n`);
  }

  end(last: unknown): void {
    this.send(last);
    this.#res.end();
  }
}
