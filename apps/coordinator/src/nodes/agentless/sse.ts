// Server-sent events, line by line (the caller splits the stream into lines).
// Only what OpenAI-compatible servers send is kept: `data` lines, joined by
// newlines until a blank line ends the event, and whether the event is an
// error — llama-server sends errors as an `error:` field, others as
// `event: error` followed by `data:`.

export interface SseEvent {
  data: string;
  error: boolean;
}

export class SseDecoder {
  #data: string[] = [];
  #error = false;

  /** One line without its line ending; returns the event this line completes. */
  push(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const raw = colon === -1 ? "" : line.slice(colon + 1);
    const value = raw.startsWith(" ") ? raw.slice(1) : raw;
    if (field === "data") this.#data.push(value);
    else if (field === "error") {
      this.#data.push(value);
      this.#error = true;
    } else if (field === "event" && value === "error") this.#error = true;
    return undefined;
  }

  /**
   * At the end of the stream. The spec drops an event not closed by a blank
   * line; some servers end on `data: [DONE]` without one, so it is kept.
   */
  end(): SseEvent | undefined {
    return this.#dispatch();
  }

  #dispatch(): SseEvent | undefined {
    const event = this.#data.length === 0 ? undefined : { data: this.#data.join("\n"), error: this.#error };
    this.#data = [];
    this.#error = false;
    return event;
  }
}
