// Server-sent events on a raw Node response. The head is written lazily, on
// the first event: until then a failure can still be answered with a proper
// HTTP status (503 while every slot is busy, 404, …) instead of an event.
import type { ServerResponse } from "node:http";

export class SseStream {
  readonly #res: ServerResponse;
  #headers: Record<string, string>;
  #started = false;

  /** `headers` go out with the head (the routing headers). */
  constructor(res: ServerResponse, headers: Record<string, string> = {}) {
    this.#res = res;
    this.#headers = headers;
  }

  /** More headers for the head; ignored once it is out. */
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
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        // Tell nginx-style proxies in front of us not to buffer the stream.
        "x-accel-buffering": "no",
        ...this.#headers,
      });
    }
    // Token events are small and arrive at generation speed; the socket's own
    // buffer absorbs a slow reader, so no backpressure handling is needed here.
    this.#res.write(`data: ${JSON.stringify(event)}\n\n`);
  }

  /** The normal end: OpenAI's `[DONE]` sentinel. */
  done(): void {
    this.#res.end("data: [DONE]\n\n");
  }

  /** A failure after the stream began: an explicit error event, never a fake `[DONE]`. */
  fail(errorEvent: unknown): void {
    this.#res.end(`data: ${JSON.stringify(errorEvent)}\n\n`);
  }
}
