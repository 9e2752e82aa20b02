// One try of a generation on one node, under its tier's timeouts. The node
// is cancelled the moment a limit passes (its slot is freed there too) and
// the try fails with an error that names the limit.
import { FlotillaError, type GenerationRequest, type GenerationResult, type InferenceNode } from "@flotilla/protocol";
import type { TierTimeouts } from "./timeouts.ts";

export interface TryOptions {
  /** The client's: aborting it cancels the try. */
  signal: AbortSignal;
  timeouts: TierTimeouts;
  onText: (text: string) => void;
}

export async function tryNode(node: InferenceNode, generation: GenerationRequest, options: TryOptions): Promise<GenerationResult> {
  const { firstTokenMs, idleMs, connectMs } = options.timeouts;
  const timeout = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timeout.abort(new FlotillaError("backend_error", `node ${node.name} ${what} (timeout ${(ms / 1000).toFixed(1)} s)`));
    }, ms);
  };
  arm(firstTokenMs, "sent no text in time");
  let texts = 0;
  try {
    return await node.generate(generation, {
      signal: AbortSignal.any([options.signal, timeout.signal]),
      connectTimeoutMs: connectMs,
      onText: (text) => {
        // The idle limit is the same for every gap: after the first piece the
        // timer is only pushed back (refresh), not replaced, per token.
        if (texts++ === 0) arm(idleMs, "stalled between two pieces of text");
        else timer?.refresh();
        options.onText(text);
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
