// How fast each node answers, as seen from the coordinator: every node kind
// times the requests that pass through its generate() and feeds a tracker
// here; `cluster status` shows the snapshot.
//
// Exponentially weighted moving averages rather than a window or percentiles:
// O(1) state per node, no timers, and recent requests dominate, so a node that
// slows down (a bigger model, a busy GPU) shows it within a few requests while
// one outlier fades. The first sample initialises the average, so a new node
// shows a real number at once instead of one dragged up from zero.
import { isGeneration, type NodeLatency, type RunOptions, type Workload, type WorkloadResult } from "@flotilla/protocol";

/** Weight of the newest sample: about the last half-dozen requests matter. */
export const LATENCY_ALPHA = 0.3;

/** An exponentially weighted moving average; null until the first sample. */
export class Ewma {
  readonly #alpha: number;
  #value: number | null = null;

  constructor(alpha = LATENCY_ALPHA) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
    this.#alpha = alpha;
  }

  add(sample: number): void {
    this.#value = this.#value === null ? sample : this.#value + this.#alpha * (sample - this.#value);
  }

  get value(): number | null {
    return this.#value;
  }
}

export interface LatencySample {
  firstTokenMs: number;
  totalMs: number;
}

export class LatencyTracker {
  readonly #firstToken: Ewma;
  readonly #total: Ewma;
  readonly #probe: Ewma;
  #samples = 0;

  constructor(alpha = LATENCY_ALPHA) {
    this.#firstToken = new Ewma(alpha);
    this.#total = new Ewma(alpha);
    this.#probe = new Ewma(alpha);
  }

  /** One successful request. Nonsense (negative, not finite) is dropped rather than poisoning the average. */
  record(sample: LatencySample): void {
    const { totalMs } = sample;
    if (!validMs(totalMs) || !validMs(sample.firstTokenMs)) return;
    // Both averages take the same samples with the same weights, so keeping
    // each sample's first token within its total keeps the averages ordered too.
    this.#firstToken.add(Math.min(sample.firstTokenMs, totalMs));
    this.#total.add(totalMs);
    this.#samples++;
  }

  /** One successful health check's round trip (agentless nodes). */
  recordProbe(ms: number): void {
    if (!validMs(ms)) return;
    this.#probe.add(ms);
  }

  snapshot(): NodeLatency {
    const probe = this.#probe.value;
    return {
      firstTokenMs: roundMs(this.#firstToken.value),
      totalMs: roundMs(this.#total.value),
      samples: this.#samples,
      ...(probe === null ? {} : { probeMs: round(probe) }),
    };
  }
}

/**
 * Runs one workload and records its latency in `tracker` if it is a
 * generation and succeeds. First token: the first chunk, or the result when
 * no chunk came before it. onChunk is always passed down (calling the
 * caller's, if any), so a non-streaming request is timed to its first token
 * too; every node kind produces chunks the same way whether or not anyone
 * listens. Embeddings are not timed: their cost says nothing about how soon
 * a node starts answering, which is what the router reads these figures for.
 * A failure is not a latency (it would make a broken node look fast), and an
 * aborted request is not one either: the client hung up or timed out and the
 * node may have stopped early with a partial answer.
 */
export async function timeWorkload(
  tracker: LatencyTracker,
  workload: Workload,
  options: RunOptions,
  run: (options: RunOptions) => Promise<WorkloadResult>,
  clock: () => number = () => performance.now(),
): Promise<WorkloadResult> {
  if (!isGeneration(workload)) return run(options);
  const started = clock();
  let firstTokenAt: number | undefined;
  const onChunk = options.onChunk;
  const result = await run({
    ...options,
    onChunk: (chunk) => {
      firstTokenAt ??= clock();
      onChunk?.(chunk);
    },
  });
  const endedAt = clock();
  if (!options.signal.aborted) tracker.record({ firstTokenMs: (firstTokenAt ?? endedAt) - started, totalMs: endedAt - started });
  return result;
}

function validMs(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0;
}

/** Tenths of a millisecond: finer is noise, coarser hides a fast local node. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function roundMs(ms: number | null): number | null {
  return ms === null ? null : round(ms);
}
