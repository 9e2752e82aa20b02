// The load generator, in the bench process, with undici keep-alive pools:
// one request at a time, closed loop (to find a capacity), open loop (to
// hold an arrival rate), and paced SSE streams checked chunk by chunk.
import { Pool } from "undici";

/** The same request to every variant; flotilla turns it into a streamed call to the mock. */
const CHAT = JSON.stringify({ model: "mock", messages: [{ role: "user", content: "Say something about gateways." }], max_tokens: 64 });
const PACED = JSON.stringify({
  model: "mock-paced",
  messages: [{ role: "user", content: "Stream something." }],
  max_tokens: 64,
  stream: true,
  stream_options: { include_usage: true },
});
const HEADERS = { "content-type": "application/json" };

export function pool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
}

/** One non-streaming chat completion; throws unless it is a 200 with the whole ~1 KB answer. */
export async function complete(p: Pool, signal?: AbortSignal): Promise<void> {
  const res = await p.request({ path: "/v1/chat/completions", method: "POST", headers: HEADERS, body: CHAT, signal });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text.length < 700) throw new Error(`answer ${res.statusCode}: ${text.slice(0, 200)}`);
}

/** Latencies (ms) of n requests sent one after another on one connection. */
export async function sequential(p: Pool, n: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await complete(p);
    latencies.push(performance.now() - start);
  }
  return latencies;
}

/** Requests per second that `connections` clients, each sending as soon as answered, get through. */
export async function closedLoop(p: Pool, connections: number, durationMs: number): Promise<number> {
  const start = performance.now();
  const deadline = start + durationMs;
  let done = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        await complete(p);
        done++;
      }
    }),
  );
  return (done * 1000) / (performance.now() - start);
}

export interface OpenLoopRun {
  /** ms from each request's scheduled start to its answer; Infinity for one not answered within the grace. */
  latencies: number[];
  answered: number;
}

/**
 * Open loop: request i starts at t0 + i/rate whether or not earlier ones were
 * answered, and its latency counts from that scheduled time, so a proxy that
 * falls behind shows its queue (no coordinated omission). Timers fire up to
 * ~1 ms late; that slop is the same for every variant, direct included, and
 * cancels out of the added figures. Requests still open `graceMs` after the
 * last is due are cancelled and count as never answered.
 */
export async function openLoop(p: Pool, ratePerS: number, durationMs: number, graceMs: number): Promise<OpenLoopRun> {
  const n = Math.max(1, Math.round((ratePerS * durationMs) / 1000));
  const interval = 1000 / ratePerS;
  const cancel = new AbortController();
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const t0 = performance.now() + 1;
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (; i < n && t0 + i * interval <= now; i++) {
        const scheduled = t0 + i * interval;
        pending.push(
          complete(p, cancel.signal).then(
            () => void latencies.push(performance.now() - scheduled),
            () => void latencies.push(Number.POSITIVE_INFINITY),
          ),
        );
      }
      if (i < n) setTimeout(tick, Math.max(0, t0 + i * interval - performance.now() - 0.5));
      else resolve();
    };
    tick();
  });
  const timer = setTimeout(() => cancel.abort(), graceMs);
  await Promise.all(pending);
  clearTimeout(timer);
  return { latencies, answered: latencies.filter(Number.isFinite).length };
}

export interface StreamRun {
  /** ms from the request to the first content chunk. */
  ttftMs: number;
  /** When the first content chunk arrived (performance.now()). */
  firstAt: number;
  /** ms between consecutive chunks that arrived whole and in order. */
  gapsMs: number[];
  /** When each of those gaps ended (performance.now()). */
  gapEnds: number[];
  /** Chunks that did not arrive as their own event in sequence: lost, merged, reordered. */
  bad: number;
}

/**
 * One paced stream. Chunk i carries `t<i> `; a chunk counts as good only when
 * it arrives as its own SSE event right after chunk i-1. Events that arrive in
 * the same read get the same arrival time, so a stall shows as a long gap.
 */
export async function stream(p: Pool, chunks: number, signal: AbortSignal): Promise<StreamRun> {
  const start = performance.now();
  const res = await p.request({ path: "/v1/chat/completions", method: "POST", headers: HEADERS, body: PACED, signal });
  if (res.statusCode !== 200) throw new Error(`stream answer ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
  let buffer = "";
  let expected = 0;
  let good = 0;
  let last = Number.NaN;
  let ttftMs = Number.NaN;
  let firstAt = Number.NaN;
  const gapsMs: number[] = [];
  const gapEnds: number[] = [];
  for await (const data of res.body as AsyncIterable<Buffer>) {
    const now = performance.now();
    buffer += data.toString("utf8");
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const chunk = JSON.parse(event.slice(6)) as { choices?: Array<{ delta?: { content?: string | null } }> };
      const content = chunk.choices?.[0]?.delta?.content;
      if (!content) continue;
      const seq = /^t(\d+) $/.exec(content);
      if (seq?.[1] === undefined) {
        // Several chunks in one event: skip past the last of them.
        const all = [...content.matchAll(/t(\d+) /g)];
        expected = Number(all.at(-1)?.[1] ?? expected) + 1;
        last = Number.NaN;
        continue;
      }
      const n = Number(seq[1]);
      if (n === expected) {
        if (n === 0) {
          ttftMs = now - start;
          firstAt = now;
        } else if (!Number.isNaN(last)) {
          gapsMs.push(now - last);
          gapEnds.push(now);
        }
        good++;
        last = now;
      } else {
        last = Number.NaN;
      }
      expected = n + 1;
    }
  }
  return { ttftMs, firstAt, gapsMs, gapEnds, bad: chunks - good };
}
