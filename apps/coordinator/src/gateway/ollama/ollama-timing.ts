// Ollama's durations, measured at the gateway with a monotonic nanosecond
// clock (docs/adr/0032):
// - total_duration: from the request's arrival to its last byte of answer;
// - load_duration: 0, as flotilla loads no model for a request (models are
//   pinned by node configuration, loaded before they are listed);
// - prompt_eval_duration: from arrival to the first chunk of the node that
//   answered: routing, any wait in the busy queue, the network and the
//   node's reading of the prompt, i.e. what the client waited for the first token;
// - eval_duration: from that first chunk to the end of the answer.
import type { Durations } from "./ollama-translate.ts";

export class AnswerClock {
  readonly #nowNs: () => bigint;
  readonly #startedNs: bigint;
  #firstChunkNs: bigint | undefined;

  constructor(nowNs: () => bigint = () => process.hrtime.bigint()) {
    this.#nowNs = nowNs;
    this.#startedNs = nowNs();
  }

  /** A try's node sent its first chunk; a later try (after a failure) moves the mark. */
  firstChunk(): void {
    this.#firstChunkNs = this.#nowNs();
  }

  /** The durations so far, read when the answer is complete. */
  durations(): Durations {
    return durationsOf(this.#startedNs, this.#firstChunkNs, this.#nowNs());
  }
}

/** Without a chunk (nothing generated), all the time was spent before generating. */
export function durationsOf(startedNs: bigint, firstChunkNs: bigint | undefined, endedNs: bigint): Durations {
  const first = firstChunkNs ?? endedNs;
  return {
    total_duration: Number(endedNs - startedNs),
    load_duration: 0,
    prompt_eval_duration: Number(first - startedNs),
    eval_duration: Number(endedNs - first),
  };
}
