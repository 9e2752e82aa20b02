// Server-sent events, as OpenAI streams them: `data: {json}` events, ended by
// `[DONE]` (or by an error event after a failure, never a fake `[DONE]`).
import type { ServerResponse } from "node:http";
import { LazyStream } from "./lazy-stream.ts";

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;

export class SseStream extends LazyStream {
  constructor(res: ServerResponse) {
    super(res, "text/event-stream; charset=utf-8", event);
  }

  /** The normal end: OpenAI's `[DONE]` sentinel. */
  done(): void {
    this.finish("data: [DONE]\n\n");
  }

  /** A failure after the stream began: an explicit error event, never a fake `[DONE]`. */
  fail(errorEvent: unknown): void {
    this.finish(event(errorEvent));
  }
}
