// A streamed answer on a raw Node response whose head is written lazily, on
// the first event: until then a failure can still be answered with a proper
// HTTP status (503 while every slot is busy, 404, …) and the API's own error
// body instead of an event. SSE (/v1) and NDJSON (/api) differ only in how
// an event is framed and how the stream ends.
import type { ServerResponse } from "node:http";

export class LazyStream {
  readonly #res: ServerResponse;
  readonly #contentType: string;
  readonly #frame: (event: unknown) => string;
  #headers: Record<string, string> = {};
  #started = false;

  constructor(res: ServerResponse, contentType: string, frame: (event: unknown) => string) {
    this.#res = res;
    this.#contentType = contentType;
    this.#frame = frame;
  }

  /** More headers for the head (the routing headers); ignored once it is out. */
  addHeaders(headers: Record<string, string>): void {
    if (!this.#started) this.#headers = { ...this.#headers, ...headers };
  }

  get started(): boolean {
    return this.#started;
  }

  send(event: unknown): void {
    if (!this.#started) {
      this.#started = true;
      this.#res.writeHead(200, {
        "content-type": this.#contentType,
        "cache-control": "no-cache",
        connection: "keep-alive",
        // Tell nginx-style proxies in front of us not to buffer the stream.
        "x-accel-buffering": "no",
        ...this.#headers,
      });
    }
    // Token events are small and arrive at generation speed; the socket's own
    // buffer absorbs a slow reader, so no backpressure handling is needed here.
    this.#res.write(this.#frame(event));
  }

  /** Ends the response, after `text` (already framed). */
  protected finish(text = ""): void {
    this.#res.end(text);
  }
}
