// /metrics as a scraper sees it: events go in through the DispatchObserver
// methods and the node views, the exposition comes out as text, and a real
// Prometheus text-format parser (parse-prometheus-text-format) reads it back,
// so what is checked is the numbers a dashboard would show, not prom-client's
// internals. The route is checked in-process with Fastify's inject.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import Fastify, { type FastifyInstance } from "fastify";
import { toOpenAIErrorBody } from "@flotilla/protocol";
import type { RequestOutcome } from "../dispatch/observer.ts";
import { toFlotillaError } from "../gateway/errors.ts";
import { registerMetricsRoutes } from "../api/metrics-routes.ts";
import { GatewayMetrics, tokensPerSecond, type NodeMetricsView } from "./gateway-metrics.ts";

/** The parser's output (it ships no types): one entry per metric family. */
interface ParsedFamily {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string }[];
}
// A CommonJS package without types: required rather than imported, so the
// compiler takes the shape above instead of refusing an untyped module.
const parsePrometheusTextFormat = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => ParsedFamily[];

class Scrape {
  private readonly families: Map<string, ParsedFamily>;
  private readonly types: Map<string, string>;

  constructor(text: string) {
    this.types = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f.type]));
    // The parser folds every label set of a histogram into one (its issue
    // #13), so histograms are read as what they are on the wire: plain
    // _bucket, _count and _sum series. Their declared type is kept above.
    // prom-client writes each label set's buckets, sum and count together, so
    // the parser sees a series name come back and starts a family again: join them.
    const flat = text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped");
    this.families = new Map();
    for (const family of parsePrometheusTextFormat(flat)) {
      const seen = this.families.get(family.name);
      if (seen === undefined) this.families.set(family.name, family);
      else seen.metrics.push(...family.metrics);
    }
  }

  type(name: string): string | undefined {
    return this.types.get(name);
  }

  /** Every series of `name` whose labels include `labels`. */
  series(name: string, labels: Record<string, string> = {}): { labels: Record<string, string>; value: number }[] {
    const family = this.families.get(name);
    return (family?.metrics ?? [])
      .map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))
      .filter((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  }

  /** The value of the one series of `name` with exactly these labels; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const matches = this.series(name, labels).filter((m) => Object.keys(m.labels).length === Object.keys(labels).length);
    assert.ok(matches.length <= 1, `${name} ${JSON.stringify(labels)} matches ${matches.length} series`);
    return matches[0]?.value;
  }
}

function node(name: string, overrides: Partial<NodeMetricsView> = {}): NodeMetricsView {
  return { name, pool: "lab", tier: 1, state: "ready", circuit: "closed", inFlight: 0, slots: 2, ...overrides };
}

function outcome(overrides: Partial<RequestOutcome> = {}): RequestOutcome {
  return {
    node: "a",
    model: "qwen3-4b",
    tier: 1,
    class: "SIMPLE",
    outcome: "ok",
    firstTokenS: 0.5,
    totalS: 2.5,
    completionTokens: 100,
    failedTries: 0,
    ...overrides,
  };
}

function fixture(initialNodes: NodeMetricsView[] = []): { metrics: GatewayMetrics; nodes: NodeMetricsView[]; queue: { depth: number } } {
  const nodes = [...initialNodes];
  const queue = { depth: 0 };
  const metrics = new GatewayMetrics({ nodes: () => nodes, queueDepth: () => queue.depth });
  return { metrics, nodes, queue };
}

async function scrape(metrics: GatewayMetrics): Promise<Scrape> {
  return new Scrape((await metrics.text()).body);
}

describe("GatewayMetrics", () => {
  test("counts requests by node, model, tier, class and outcome", async () => {
    const { metrics } = fixture();
    metrics.finished(outcome());
    metrics.finished(outcome());
    metrics.finished(outcome({ outcome: "error", firstTokenS: null }));
    metrics.finished(outcome({ class: "COMPLEX", tier: 2, node: "b", model: "llama-70b", outcome: "cancelled" }));

    const s = await scrape(metrics);
    assert.equal(s.type("flotilla_requests_total"), "COUNTER");
    const on = (outcomeKind: string) => ({ node: "a", model: "qwen3-4b", tier: "1", class: "SIMPLE", outcome: outcomeKind });
    assert.equal(s.value("flotilla_requests_total", on("ok")), 2);
    assert.equal(s.value("flotilla_requests_total", on("error")), 1);
    assert.equal(s.value("flotilla_requests_total", { node: "b", model: "llama-70b", tier: "2", class: "COMPLEX", outcome: "cancelled" }), 1);
  });

  test("a request no node took has empty node and tier, and hides a model no node has served", async () => {
    const { metrics } = fixture();
    const rejected = { node: null, tier: null, outcome: "rejected", firstTokenS: null, totalS: 0.01, completionTokens: 0 } as const;
    metrics.finished(outcome({ ...rejected, model: "made-up-by-a-client" }));
    metrics.finished(outcome());
    metrics.finished(outcome({ ...rejected, model: "qwen3-4b" }));

    const s = await scrape(metrics);
    const labels = (model: string) => ({ node: "", model, tier: "", class: "SIMPLE", outcome: "rejected" });
    assert.equal(s.value("flotilla_requests_total", labels("")), 1);
    assert.equal(s.value("flotilla_requests_total", labels("qwen3-4b")), 1);
    assert.equal(s.series("flotilla_requests_total", { model: "made-up-by-a-client" }).length, 0);
  });

  test("latency and speed histograms: first token for any text, duration and speed for ok answers", async () => {
    const { metrics } = fixture();
    // 100 tokens in the 2 s after the first: 50 tokens/s.
    metrics.finished(outcome({ firstTokenS: 0.5, totalS: 2.5, completionTokens: 100 }));
    metrics.finished(outcome({ firstTokenS: 0.2, totalS: 0.2, completionTokens: 1 }));
    metrics.finished(outcome({ outcome: "cancelled", firstTokenS: 0.3, totalS: 40 }));
    metrics.finished(outcome({ outcome: "error", firstTokenS: null, totalS: 30 }));

    const s = await scrape(metrics);
    const where = { node: "a", model: "qwen3-4b", tier: "1" };
    for (const name of ["flotilla_time_to_first_token_seconds", "flotilla_request_duration_seconds", "flotilla_tokens_per_second"]) {
      assert.equal(s.type(name), "HISTOGRAM", name);
    }
    assert.equal(s.value("flotilla_time_to_first_token_seconds_count", where), 3);
    assert.equal(s.value("flotilla_time_to_first_token_seconds_bucket", { ...where, le: "0.25" }), 1);
    assert.equal(s.value("flotilla_request_duration_seconds_count", where), 2);
    assert.equal(s.value("flotilla_request_duration_seconds_sum", where), 2.7);
    assert.equal(s.value("flotilla_request_duration_seconds_bucket", { ...where, le: "+Inf" }), 2);
    assert.equal(s.value("flotilla_tokens_per_second_count", where), 2);
    assert.equal(s.value("flotilla_tokens_per_second_sum", where), 55);
    assert.equal(s.value("flotilla_tokens_per_second_bucket", { ...where, le: "5" }), 1);
    assert.equal(s.value("flotilla_tokens_per_second_bucket", { ...where, le: "30" }), 1);
    assert.equal(s.value("flotilla_tokens_per_second_bucket", { ...where, le: "50" }), 2);
  });

  test("retries and continuations are counted against the node that failed", async () => {
    const { metrics } = fixture();
    metrics.retried("a", "qwen3-4b");
    metrics.retried("a", "qwen3-4b");
    metrics.resumed("b", "qwen3-4b");

    const s = await scrape(metrics);
    assert.equal(s.value("flotilla_retries_total", { node: "a", model: "qwen3-4b" }), 2);
    assert.equal(s.value("flotilla_continuations_total", { node: "b", model: "qwen3-4b" }), 1);
    assert.equal(s.value("flotilla_continuations_total", { node: "a", model: "qwen3-4b" }), undefined);
  });

  test("a request answered after a failed try counts as a failover; one that failed does not", async () => {
    const { metrics } = fixture();
    metrics.finished(outcome({ failedTries: 1 }));
    metrics.finished(outcome({ failedTries: 2 }));
    metrics.finished(outcome());
    metrics.finished(outcome({ failedTries: 3, outcome: "error" }));
    const s = await scrape(metrics);
    assert.equal(s.value("flotilla_failovers_total", { model: "qwen3-4b" }), 2);
  });

  test("the busy queue: depth read at scrape time, waits and exits by how requests left", async () => {
    const { metrics, queue } = fixture();
    queue.depth = 3;
    metrics.dequeued(1.5, "dispatched");
    metrics.dequeued(0.2, "dispatched");
    metrics.dequeued(30, "timeout");
    metrics.dequeued(0, "overflow");

    let s = await scrape(metrics);
    assert.equal(s.value("flotilla_queue_depth"), 3);
    assert.equal(s.value("flotilla_queue_exits_total", { exit: "dispatched" }), 2);
    assert.equal(s.value("flotilla_queue_exits_total", { exit: "overflow" }), 1);
    assert.equal(s.value("flotilla_queue_wait_seconds_count", { exit: "dispatched" }), 2);
    assert.equal(s.value("flotilla_queue_wait_seconds_sum", { exit: "timeout" }), 30);
    assert.equal(s.value("flotilla_queue_wait_seconds_bucket", { exit: "dispatched", le: "1" }), 1);

    queue.depth = 0;
    s = await scrape(metrics);
    assert.equal(s.value("flotilla_queue_depth"), 0);
  });

  test("node state sets, load and slots, and a node that leaves leaves the output", async () => {
    const { metrics, nodes } = fixture([
      node("a", { inFlight: 2, slots: 4 }),
      node("b", { tier: 2, pool: "gpu", state: "suspect", circuit: "half-open" }),
      node("c", { state: "draining" }),
    ]);

    let s = await scrape(metrics);
    const health = (n: string) => Object.fromEntries(s.series("flotilla_node_health", { node: n }).map((m): [string, number] => [m.labels.state ?? "", m.value]));
    assert.deepEqual(health("a"), { ready: 1, suspect: 0, down: 0, draining: 0 });
    assert.deepEqual(health("b"), { ready: 0, suspect: 1, down: 0, draining: 0 });
    assert.deepEqual(health("c"), { ready: 0, suspect: 0, down: 0, draining: 1 });
    assert.equal(s.value("flotilla_node_circuit_state", { node: "b", state: "half-open" }), 1);
    assert.equal(s.value("flotilla_node_circuit_state", { node: "b", state: "closed" }), 0);
    assert.equal(s.value("flotilla_node_in_flight", { node: "a" }), 2);
    assert.equal(s.value("flotilla_node_slots", { node: "a" }), 4);
    assert.equal(s.value("flotilla_node_info", { node: "b", pool: "gpu", tier: "2" }), 1);

    nodes.splice(1, 1);
    nodes[0] = node("a", { state: "down", circuit: "open" });
    s = await scrape(metrics);
    for (const name of ["flotilla_node_info", "flotilla_node_health", "flotilla_node_circuit_state", "flotilla_node_in_flight", "flotilla_node_slots"]) {
      assert.equal(s.series(name, { node: "b" }).length, 0, `${name} still shows node b`);
      assert.ok(s.series(name, { node: "a" }).length > 0, `${name} lost node a`);
    }
    assert.equal(s.value("flotilla_node_health", { node: "a", state: "down" }), 1);
    assert.equal(s.value("flotilla_node_health", { node: "a", state: "ready" }), 0);
    assert.equal(s.value("flotilla_node_circuit_state", { node: "a", state: "open" }), 1);
  });

  test("names with quotes, backslashes and newlines come out escaped and read back unchanged", async () => {
    const awkward = 'lab "north"\\rack\n2';
    const { metrics } = fixture([node(awkward)]);
    metrics.finished(outcome({ node: awkward, model: 'mo"del\nv2' }));

    const s = await scrape(metrics);
    assert.equal(s.value("flotilla_node_slots", { node: awkward }), 2);
    assert.equal(s.value("flotilla_requests_total", { node: awkward, model: 'mo"del\nv2', tier: "1", class: "SIMPLE", outcome: "ok" }), 1);
  });

  test("keeps the coordinator process's own metrics, under the flotilla_ prefix", async () => {
    const { metrics } = fixture();
    const { contentType } = await metrics.text();
    const s = await scrape(metrics);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(s.type("flotilla_process_cpu_user_seconds_total"), "COUNTER");
    assert.ok((s.value("flotilla_process_resident_memory_bytes") ?? 0) > 0);
  });

  test("two instances in one process do not share series", async () => {
    const first = fixture();
    const second = fixture();
    first.metrics.retried("a", "m");
    assert.equal((await scrape(second.metrics)).value("flotilla_retries_total", { node: "a", model: "m" }), undefined);
  });
});

describe("tokensPerSecond", () => {
  test("after the first token when there are at least two tokens", () => {
    assert.equal(tokensPerSecond(outcome({ firstTokenS: 1, totalS: 3, completionTokens: 20 })), 10);
  });
  test("over the whole request for one token, no first-token time, or no time after it", () => {
    assert.equal(tokensPerSecond(outcome({ firstTokenS: 1, totalS: 2, completionTokens: 1 })), 0.5);
    assert.equal(tokensPerSecond(outcome({ firstTokenS: null, totalS: 4, completionTokens: 20 })), 5);
    assert.equal(tokensPerSecond(outcome({ firstTokenS: 2, totalS: 2, completionTokens: 20 })), 10);
  });
  test("nothing to measure without tokens or time", () => {
    assert.equal(tokensPerSecond(outcome({ completionTokens: 0 })), undefined);
    assert.equal(tokensPerSecond(outcome({ firstTokenS: null, totalS: 0, completionTokens: 3 })), undefined);
  });
});

describe("GET /metrics", () => {
  const ADMIN_KEY = "flt_admin_test-admin-key";
  const METRICS_KEY = "flt_metrics_test-scrape-key";

  async function app(metricsKey: string | undefined): Promise<FastifyInstance> {
    const instance = Fastify();
    // As the gateway does: a thrown FlotillaError leaves in OpenAI's error shape.
    instance.setErrorHandler((err, request, reply) => {
      const failure = toFlotillaError(err, request.log);
      return reply.code(failure.status).send(toOpenAIErrorBody(failure));
    });
    const { metrics } = fixture([node("a")]);
    metrics.finished(outcome());
    registerMetricsRoutes(instance, { metrics, adminKey: ADMIN_KEY, metricsKey });
    await instance.ready();
    return instance;
  }

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  test("without a key: 401 in OpenAI's error shape", async () => {
    const res = await (await app(METRICS_KEY)).inject({ method: "GET", url: "/metrics" });
    assert.equal(res.statusCode, 401);
    const body = res.json();
    assert.equal(body.error.code, "invalid_api_key");
    assert.equal(body.error.type, "authentication_error");
    assert.equal(typeof body.error.message, "string");
  });

  test("with a wrong key, or the admin key sent as Basic: 401", async () => {
    const instance = await app(METRICS_KEY);
    assert.equal((await instance.inject({ method: "GET", url: "/metrics", headers: bearer("flt_nope") })).statusCode, 401);
    assert.equal((await instance.inject({ method: "GET", url: "/metrics", headers: { authorization: `Basic ${ADMIN_KEY}` } })).statusCode, 401);
  });

  test("with the admin key: 200 and the exposition", async () => {
    const res = await (await app(METRICS_KEY)).inject({ method: "GET", url: "/metrics", headers: bearer(ADMIN_KEY) });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/plain/);
    const s = new Scrape(res.body);
    assert.equal(s.value("flotilla_requests_total", { node: "a", model: "qwen3-4b", tier: "1", class: "SIMPLE", outcome: "ok" }), 1);
  });

  test("with the metrics key: 200; without one configured it opens nothing", async () => {
    const res = await (await app(METRICS_KEY)).inject({ method: "GET", url: "/metrics", headers: bearer(METRICS_KEY) });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /flotilla_requests_total/);
    const without = await app(undefined);
    assert.equal((await without.inject({ method: "GET", url: "/metrics", headers: bearer(METRICS_KEY) })).statusCode, 401);
  });

  test("another method: 405 with Allow for a caller with a key, 401 for one without", async () => {
    const instance = await app(METRICS_KEY);
    const res = await instance.inject({ method: "POST", url: "/metrics", headers: bearer(METRICS_KEY) });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, "GET, HEAD");
    assert.equal(res.json().error.code, "method_not_allowed");
    assert.equal((await instance.inject({ method: "POST", url: "/metrics" })).statusCode, 401);
  });
});
