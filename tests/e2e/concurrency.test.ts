// Several clients at once, each with its own answer; a hung-up client frees
// its slot; a full cluster queues up to its bound, then says 503 +
// Retry-After instead of hanging.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createRequire } from "node:module";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

// The parser ships no types; this is the part of its output the test reads.
interface MetricFamily {
  name: string;
  metrics: Array<{ value?: string; labels?: Record<string, string> }>;
}
const parsePrometheus = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => MetricFamily[];

interface SlotView {
  nodes: Array<{ models: Array<{ id: string; slots: { total: number; busy: number; queued: number } }> }>;
}

async function slots(fl: FlotillaProcess): Promise<{ total: number; busy: number; queued: number }> {
  const res = await fetch(`${fl.url}/cluster/status`, { headers: { authorization: `Bearer ${fl.adminKey}` } });
  const body = (await res.json()) as SlotView;
  const model = body.nodes[0]?.models.find((m) => m.id === TEST_MODEL_ID);
  assert.ok(model, "the node reports the model");
  return model.slots;
}

async function queueDepth(fl: FlotillaProcess): Promise<number> {
  const res = await fetch(`${fl.url}/cluster/status`, { headers: { authorization: `Bearer ${fl.adminKey}` } });
  return ((await res.json()) as { queue: { depth: number } }).queue.depth;
}

function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

describe("eight clients at once on four slots", () => {
  let fl: FlotillaProcess;
  let client: OpenAI;
  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath(), "--slots", "4"] });
    client = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: "x", maxRetries: 0 });
  });
  after(() => fl.stop());

  test("8 simultaneous streams with different prompts each get their own text", async () => {
    const names = ["Tom", "Sue", "a cat", "a dog", "Lily", "Ben", "a bird", "Max"];
    const request = (i: number) => ({
      model: TEST_MODEL_ID,
      prompt: `Once upon a time, ${names[i]}`,
      max_tokens: 48,
      // Greedy decoding: batched evaluation can move logits in the last
      // bits, which may flip a sampled token but not a clear argmax.
      temperature: 0,
    });
    // Each request alone first: what its own answer is.
    const alone: string[] = [];
    for (let i = 0; i < 8; i++) alone.push((await client.completions.create(request(i))).choices[0]?.text ?? "");
    assert.equal(new Set(alone).size, 8, "eight different answers to tell apart");

    const together = await Promise.all(
      names.map(async (_, i) => {
        let text = "";
        for await (const chunk of await client.completions.create({ ...request(i), stream: true })) {
          text += chunk.choices[0]?.text ?? "";
        }
        return text;
      }),
    );
    // Each stream is attributed to the solo answer it shares the longest
    // start with: that must be its own. Batched floating point may make a
    // text part ways with its solo run late (rarely), never take another's.
    together.forEach((text, i) => {
      const shared = alone.map((solo) => commonPrefix(text, solo));
      const best = shared.indexOf(Math.max(...shared));
      assert.equal(best, i, `stream ${i} carries the text of request ${best}: ${JSON.stringify(text)}`);
      assert.ok((shared[i] ?? 0) >= Math.min(24, alone[i]?.length ?? 0), `stream ${i} starts with its own answer`);
    });
    assert.deepEqual(await slots(fl), { total: 4, busy: 0, queued: 0 });
  });

  test("a client that hangs up mid-stream frees its slot, and the next request is served", async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: TEST_MODEL_ID, messages: [{ role: "user", content: "A long story, please." }], max_tokens: 100_000, stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    for await (const _ of stream) {
      if (++chunks === 3) {
        controller.abort();
        break;
      }
    }
    assert.equal(chunks, 3);
    let free = false;
    for (let i = 0; i < 50 && !free; i++) {
      free = (await slots(fl)).busy === 0;
      if (!free) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(free, "the slot was free again within a second");
    const next = await client.chat.completions.create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 });
    assert.equal(next.usage?.completion_tokens, 4);
  });
});

describe("a full node", () => {
  let fl: FlotillaProcess;
  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath(), "--slots", "1", "--max-queued", "1"] });
  });
  after(() => fl.stop());

  test("queues up to the bound, then answers 503 with Retry-After at once", async () => {
    const long = (signal: AbortSignal) =>
      fetch(`${fl.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: TEST_MODEL_ID, prompt: "Once", max_tokens: 100_000, stream: true }),
        signal,
      });
    const controller = new AbortController();
    const running = await long(controller.signal); // holds the only slot (headers come with the first token)
    assert.equal(running.status, 200);
    const queued = fetch(`${fl.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, prompt: "Twice", max_tokens: 3 }),
    });
    // It waits in the coordinator's busy queue, not on the node: the node is
    // never sent more than its slots, so whichever node frees first takes it.
    while ((await queueDepth(fl)) < 1) await new Promise((r) => setTimeout(r, 10));

    const refused = await fetch(`${fl.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, prompt: "Thrice", max_tokens: 3 }),
    });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    const body = (await refused.json()) as { error: { code: string; type: string } };
    assert.equal(body.error.code, "server_busy");
    assert.equal(body.error.type, "server_error");

    controller.abort();
    await running.body?.cancel().catch(() => undefined);
    const served = await queued;
    assert.equal(served.status, 200, "the queued request was served once the slot freed");
    const result = (await served.json()) as { usage: { completion_tokens: number } };
    assert.equal(result.usage.completion_tokens, 3);

    // /metrics, read with a Prometheus text parser, counted both ways out of the queue.
    const metrics = await fetch(`${fl.url}/metrics`, { headers: { authorization: `Bearer ${fl.adminKey}` } });
    assert.equal(metrics.status, 200);
    const families = parsePrometheus(await metrics.text());
    const exits = (exit: string) =>
      families.find((f) => f.name === "flotilla_queue_exits_total")?.metrics.find((m) => m.labels?.exit === exit)?.value;
    assert.equal(exits("dispatched"), "1");
    assert.equal(exits("overflow"), "1");
    assert.equal(families.find((f) => f.name === "flotilla_queue_depth")?.metrics[0]?.value, "0");
  });
});
