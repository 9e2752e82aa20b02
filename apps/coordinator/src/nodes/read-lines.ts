// Lines of a streamed HTTP body (NDJSON from agents and Ollama, SSE from
// OpenAI-compatible servers). node:readline does the same but builds a whole
// terminal interface (history, key decoding) per call, which showed up in
// the gateway's CPU profile at every request.
import { StringDecoder } from "node:string_decoder";

/** The longest line a node may send: a speech result's audio, base64, is the longest there is. */
const MAX_LINE_CHARS = 128 * 1024 * 1024;

/** Yields each line without its "\n" (and a "\r" before it); the last one even without a newline. */
export async function* readLines(body: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  for await (const chunk of body) {
    // Only the new text can hold the next newline: searching all of a long
    // line again at each chunk (a speech result is one line of megabytes)
    // would cost its length squared.
    const searchFrom = pending.length;
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
    let newline = pending.indexOf("\n", searchFrom);
    while (newline >= 0) {
      const end = newline > 0 && pending.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      yield pending.slice(0, end);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
    if (pending.length > MAX_LINE_CHARS) throw new Error(`a line of over ${MAX_LINE_CHARS} characters, more than any answer holds`);
  }
  pending += decoder.end();
  if (pending !== "") yield pending.endsWith("\r") ? pending.slice(0, -1) : pending;
}

/** A node's streamed answer body (undici's response body). */
export interface AnswerBody extends AsyncIterable<Buffer | string> {
  destroy(): unknown;
}

/** How long a body may go on after its answer is complete. */
const TRAILING_BODY_MS = 1_000;

/**
 * Feeds each line of `body` to `onLine` until it returns true (the answer is
 * complete: `[DONE]`, a result event), and says whether that happened.
 * The rest of the body (normally just its end) is then still read rather
 * than abandoned: leaving an async iterator early destroys the stream with an
 * AbortError and its stack trace, which cost ~3% of the gateway's CPU in its
 * profile. A server that does not end the body within TRAILING_BODY_MS of
 * completing is cut off, and that cut is not an error. Errors before
 * completion (from `onLine` or from reading) are thrown as they are.
 */
export async function readAnswer(body: AnswerBody, onLine: (line: string) => boolean): Promise<boolean> {
  const lines = readLines(body);
  let complete = false;
  let cutOff: NodeJS.Timeout | undefined;
  try {
    for await (const line of lines) {
      if (complete) continue;
      complete = onLine(line);
      if (complete) cutOff = setTimeout(() => body.destroy(), TRAILING_BODY_MS);
    }
  } catch (err) {
    if (!complete) throw err;
  } finally {
    clearTimeout(cutOff);
    await lines.return(undefined);
    body.destroy();
  }
  return complete;
}
