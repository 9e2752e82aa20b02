// The upstream of the gateway benchmarks: a zero-delay OpenAI-shaped server,
// run as its own process (`node bench/mock-upstream.ts CHUNKS GAP_MS`). It
// prints `listening PORT` once it listens on a free loopback port.
//
// Two models. `mock` answers at once: a ~1 KB chat completion, or, asked to
// stream (as flotilla always asks its agentless nodes), the same text as
// BURST_CHUNKS chunks in a single write. `mock-paced` streams CHUNKS chunks
// GAP_MS apart, the first at once; chunk i's content is `t<i> ` so a client
// can tell a lost or merged chunk. Streams end with a finish chunk, a usage
// chunk when `stream_options.include_usage` asks for it, and `[DONE]`.
// GET /count says how many requests each model was sent.
import http from "node:http";

const CHUNKS = Number(process.argv[2] ?? 64);
const GAP_MS = Number(process.argv[3] ?? 20);
const BURST_CHUNKS = 16;
const CREATED = Math.floor(Date.now() / 1000);
const ID = "chatcmpl-benchmock0000000000000000";
// 16 × 44 characters: with the envelope, a ~1 KB body.
const WORDS = Array.from({ length: BURST_CHUNKS }, (_, i) => `Piece ${String(i).padStart(2, "0")} of the answer, a few words long. `);
const USAGE = { prompt_tokens: 12, completion_tokens: BURST_CHUNKS, total_tokens: 12 + BURST_CHUNKS };

const completion = JSON.stringify({
  id: ID,
  object: "chat.completion",
  created: CREATED,
  model: "mock",
  system_fingerprint: "fp_bench_mock",
  choices: [{ index: 0, message: { role: "assistant", content: WORDS.join(""), refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: USAGE,
});

function event(model: string, delta: object, finish: string | null): string {
  return `data: ${JSON.stringify({ id: ID, object: "chat.completion.chunk", created: CREATED, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
}
function tail(model: string, usage: boolean, completionTokens: number): string {
  const usageEvent = usage
    ? `data: ${JSON.stringify({ id: ID, object: "chat.completion.chunk", created: CREATED, model, choices: [], usage: { ...USAGE, completion_tokens: completionTokens, total_tokens: 12 + completionTokens } })}\n\n`
    : "";
  return `${event(model, {}, "stop")}${usageEvent}data: [DONE]\n\n`;
}
const burst = (usage: boolean) =>
  WORDS.map((w, i) => event("mock", i === 0 ? { role: "assistant", content: w } : { content: w }, null)).join("") + tail("mock", usage, BURST_CHUNKS);
const burstWithUsage = burst(true);
const burstPlain = burst(false);

const SSE_HEAD = { "content-type": "text/event-stream", "cache-control": "no-cache" };

/** Paced stream: chunk i is due at start + i × GAP_MS (drift-corrected, not chained). */
function paced(res: http.ServerResponse, usage: boolean): void {
  const start = performance.now();
  res.writeHead(200, SSE_HEAD);
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  res.on("close", () => clearTimeout(timer));
  const next = () => {
    if (res.destroyed) return;
    res.write(event("mock-paced", i === 0 ? { role: "assistant", content: `t${i} ` } : { content: `t${i} ` }, null));
    i++;
    if (i === CHUNKS) return void res.end(tail("mock-paced", usage, CHUNKS));
    timer = setTimeout(next, Math.max(0, start + i * GAP_MS - performance.now()));
  };
  next();
}

interface Body {
  model?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

/** Streams started, by model: what the crash bench counts as executions (GET /count). */
const started = new Map<string, number>();

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/count") {
    return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Object.fromEntries(started)));
  }
  if (req.method === "GET" && req.url === "/v1/models") {
    const data = ["mock", "mock-paced"].map((id) => ({ id, object: "model", created: CREATED, owned_by: "bench" }));
    return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data }));
  }
  if (req.method !== "POST" || req.url !== "/v1/chat/completions") return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let body: Body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body;
    } catch {
      return void res.writeHead(400).end();
    }
    const usage = body.stream_options?.include_usage === true;
    if (body.stream !== true) return void res.writeHead(200, { "content-type": "application/json" }).end(completion);
    if (typeof body.model === "string") started.set(body.model, (started.get(body.model) ?? 0) + 1);
    if (body.model === "mock-paced") return paced(res, usage);
    res.writeHead(200, SSE_HEAD).end(usage ? burstWithUsage : burstPlain);
  });
});
// Long keep-alive: proxies' pools keep their connections between rounds.
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address !== null && typeof address === "object") process.stdout.write(`listening ${address.port}\n`);
});
