// Runs split runs (issue 12): a `split` job cuts its text into chunks of
// lines and queues each as a chat job of its own (a child: parentId the
// run), which the text runner dispatches over the pool's nodes like any
// other. A chunk that fails is retried alone, by the queue's own retries; the
// run waits for every chunk, reports chunks done over chunks as its
// progress, and joins the answers in order. Children are queued under the
// idempotency key `split:<run>:<chunk>`, so a run taken up again after its
// lease expired (the coordinator restarted) finds the chunks it had queued,
// finished or not, and queues none twice.
//
//   lease ─▶ start ─▶ queue chunks ─▶ wait ─┬─ every chunk succeeded ─▶ complete (the answers joined)
//                                           ├─ a chunk failed or died ─▶ cancel the others, fail
//                                           └─ aborted (cancelled, lease lost, stopping) ─▶ cancel the chunks if cancelled
import { splitJobInput } from "@flotilla/protocol";
import type { Service } from "@flotilla/lifecycle";
import type { Job } from "../job.ts";
import type { JobQueue, Lease } from "../job-queue.ts";
import { isTerminal } from "../job-state.ts";
import { LeaseLoop, type LeaseLoopLog } from "../lease-loop.ts";
import { Wakeup } from "../job-waits.ts";
import { chunkRequest, combineAnswers, splitLines } from "./split-plan.ts";

/** How often every unfinished chunk is looked at, besides when the queue says one ended. */
const FULL_LOOK_EVERY_MS = 2_000;

export interface SplitRunnerOptions {
  queue: JobQueue;
  pools: () => readonly string[];
  workerId: string;
  leaseMs: number;
  /** Runs followed at once; a run holds no node, only its place. Default 16. */
  concurrency?: number;
  log: LeaseLoopLog;
  pollMs?: number;
}

export class SplitRunner implements Service {
  readonly name = "split runner";
  readonly #queue: JobQueue;
  readonly #loop: LeaseLoop;
  readonly #log: LeaseLoopLog;
  #unsubscribe: (() => void) | undefined;

  constructor(options: SplitRunnerOptions) {
    this.#queue = options.queue;
    this.#log = options.log;
    this.#loop = new LeaseLoop({ ...options, kinds: () => ["split"], concurrency: options.concurrency ?? 16, work: (lease, signal) => this.#run(lease, signal) });
  }

  start(): void {
    // A run that ends by any path but its own runner (cancelled while no runner held it, dead
    // after its lease expired too often) takes its unfinished chunks with it.
    this.#unsubscribe = this.#queue.subscribe((change) => {
      const { job } = change;
      if (change.type !== "state" || job.kind !== "split" || !isTerminal(job.state) || job.state === "succeeded") return;
      this.#cancelChildrenOf(job.id).catch((err: unknown) => this.#log.warn({ err, job: job.id }, "could not cancel a split run's chunks"));
    });
    this.#loop.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#loop.stop();
  }

  async #cancelChildrenOf(parentId: string): Promise<void> {
    let cursor: string | null = null;
    do {
      const page = await this.#queue.list({ parentId }, { cursor, limit: 500 });
      for (const child of page.jobs) if (!isTerminal(child.state)) await this.#queue.cancel(child.id);
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  async #run(lease: Lease, signal: AbortSignal): Promise<void> {
    const queue = this.#queue;
    const { job, token } = lease;
    const parsed = splitJobInput.safeParse(job.input);
    if (!parsed.success) {
      await queue.fail(job.id, token, `the split input is not valid: ${parsed.error.issues[0]?.message ?? "?"}`, { retryable: false });
      return;
    }
    const input = parsed.data;
    if ((await queue.start(job.id, token)).status !== "ok") return;
    const chunks = splitLines(input.commands, input.chunk_size);
    // Chunks not known to have ended, by job id, and those the queue said ended since the last look.
    const pending = new Map<string, number>();
    const ended = new Set<string>();
    const wakeup = new Wakeup();
    // Subscribed before the chunks are queued, so no chunk's end can slip between.
    const unsubscribe = queue.subscribe((change) => {
      if (change.type === "state" && change.job.parentId === job.id && isTerminal(change.job.state)) {
        ended.add(change.job.id);
        wakeup.wake();
      }
    });
    const children: Job[] = [];
    const done = new Map<number, Job>();
    try {
      for (const [index, chunk] of chunks.entries()) {
        if (signal.aborted) break;
        const child = await queue.enqueue({
          kind: "chat",
          input: chunkRequest(input, chunk),
          pool: job.pool,
          priority: job.priority,
          parentId: job.id,
          idempotencyKey: `split:${job.id}:${index}`,
          ...(job.owner === null ? {} : { owner: job.owner }),
        });
        children.push(child);
        pending.set(child.id, index);
      }
      let fullLookAtMs = 0;
      while (!signal.aborted) {
        // Every chunk now and then (one that ended on another coordinator, or before this run took over); else those said to have ended.
        const nowMs = Date.now();
        const look = nowMs >= fullLookAtMs ? [...pending.keys()] : [...ended].filter((id) => pending.has(id));
        if (nowMs >= fullLookAtMs) fullLookAtMs = nowMs + FULL_LOOK_EVERY_MS;
        ended.clear();
        for (const id of look) {
          const child = await queue.get(id);
          if (child === null || !isTerminal(child.state)) continue;
          done.set(pending.get(id) ?? -1, child);
          pending.delete(id);
        }
        const failed = [...done.entries()].find(([, child]) => child.state !== "succeeded");
        if (failed !== undefined) {
          const [index, child] = failed;
          await this.#cancelAll(children);
          const why = child.error?.message ?? child.state;
          await queue.fail(job.id, token, `chunk ${index + 1} of ${chunks.length} ended ${child.state} after ${child.attempts} attempts: ${why}`, { retryable: false });
          return;
        }
        if (done.size === chunks.length) {
          const answers = children.map((child, index) => {
            const result = done.get(index)?.result as { response?: unknown; nodes?: string[] } | null | undefined;
            return { jobId: child.id, response: result?.response, nodes: result?.nodes ?? [] };
          });
          await queue.complete(job.id, token, combineAnswers(input.model, answers));
          return;
        }
        void queue.progress(job.id, token, done.size / chunks.length, `${done.size} of ${chunks.length} chunks done`).catch(() => {});
        await wakeup.wait(FULL_LOOK_EVERY_MS, signal);
      }
      // Cancelled: the chunks go too. Lost or stopping: they stay, for whoever takes the run up again.
      if ((await queue.get(job.id))?.state === "cancelled") await this.#cancelAll(children);
    } finally {
      unsubscribe();
    }
  }

  async #cancelAll(children: readonly Job[]): Promise<void> {
    for (const child of children) await this.#queue.cancel(child.id);
  }
}
