// One try of a workload on one node, under its tier's timeouts. The node
// is cancelled the moment a limit passes (its slot is freed there too) and
// the try fails with an error that names the limit.
import { FlotillaError, isGeneration, isSpeech, type Chunk, type InferenceNode, type Workload, type WorkloadResult } from "@flotilla/protocol";
import type { TierTimeouts } from "./timeouts.ts";

/** The least time a speech workload has for its whole answer: a 10 MiB recording is about five minutes of audio. */
const SPEECH_ANSWER_MS = 10 * 60_000;

export interface TryOptions {
  /** The client's: aborting it cancels the try. */
  signal: AbortSignal;
  timeouts: TierTimeouts;
  onChunk: (chunk: Chunk) => void;
}

export async function tryNode(node: InferenceNode, workload: Workload, options: TryOptions): Promise<WorkloadResult> {
  const { firstTokenMs, idleMs, connectMs } = options.timeouts;
  const timeout = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timeout.abort(new FlotillaError("backend_error", `node ${node.name} ${what} (timeout ${(ms / 1000).toFixed(1)} s)`));
    }, ms);
  };
  // Embeddings and speech answer all at once: the whole answer is the first token. Speech engines
  // run at about real time on old CPUs, so a long recording gets minutes, not a model's seconds.
  if (isGeneration(workload)) arm(firstTokenMs, "sent no text in time");
  else arm(isSpeech(workload) ? Math.max(firstTokenMs, SPEECH_ANSWER_MS) : firstTokenMs, "sent no answer in time");
  let chunks = 0;
  try {
    return await node.run(workload, {
      signal: AbortSignal.any([options.signal, timeout.signal]),
      connectTimeoutMs: connectMs,
      onChunk: (chunk) => {
        // The idle limit is the same for every gap: after the first chunk the
        // timer is only pushed back (refresh), not replaced, per token.
        if (chunks++ === 0) arm(idleMs, "stalled between two chunks");
        else timer?.refresh();
        options.onChunk(chunk);
      },
    });
  } catch (err) {
    // A limit that passed is the reason, whatever the node's call threw on abort.
    if (timeout.signal.aborted && !options.signal.aborted) throw timeout.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
