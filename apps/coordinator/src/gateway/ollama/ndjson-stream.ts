// Ollama's streams: one JSON object a line, `application/x-ndjson`. A
// failure before any text gets its own status and `{"error": ...}` body
// (the head is lazy: ../lazy-stream.ts); a failure after it is one more
// line, `{"error": ...}`, which Ollama's clients throw as an error.
import type { ServerResponse } from "node:http";
import { LazyStream } from "../lazy-stream.ts";

export class NdjsonStream extends LazyStream {
  constructor(res: ServerResponse) {
    super(res, "application/x-ndjson", (line) => `${JSON.stringify(line)}\n`);
  }

  end(last: unknown): void {
    this.send(last);
    this.finish();
  }
}
