// POST /cluster/route in-process, on a real Router over fixed node statuses:
// the answer readers parse (cluster-api.ts's routeExplanation), with the
// router's codes next to the sentences made of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { routeExplanation, type InferenceNode, type NodeStatus, type RunOptions, type Workload, type WorkloadResult } from "@flotilla/protocol";
import { NodeRegistry } from "../nodes/node-registry.ts";
import { Router } from "../router/router.ts";
import { testNode, type NodeSpec } from "../router/test-nodes.ts";
import { registerRouteExplainRoutes } from "./route-explain-routes.ts";

/** A node that only reports a status: the route is explained, never run. */
class StaticNode implements InferenceNode {
  readonly name: string;
  readonly #spec: NodeSpec;
  constructor(name: string, spec: NodeSpec) {
    this.name = name;
    this.#spec = spec;
  }
  status(): NodeStatus {
    return testNode(this.name, this.#spec);
  }
  run(_workload: Workload, _options: RunOptions): Promise<WorkloadResult> {
    return Promise.reject(new Error("not used"));
  }
}

test("POST /cluster/route answers the decision in words and in codes, every node accounted for", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("small", { tier: 0 }));
  registry.add(new StaticNode("big", { tier: 2 }));
  registry.add(new StaticNode("gone", { tier: 0, health: "down" }));
  const router = new Router(registry, { nowMs: () => 0, random: () => 0.5 });
  // The router counts its own requests in flight: four fill the small node's four slots.
  for (let i = 0; i < 4; i++) router.dispatched("small", undefined);
  const app = Fastify();
  registerRouteExplainRoutes(app, router);
  try {
    const res = await app.inject({ method: "POST", url: "/cluster/route", payload: { model: "m", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(res.statusCode, 200, res.body);
    const answer = routeExplanation.parse(res.json());
    assert.equal(answer.kind, "chosen");
    assert.deepEqual([answer.node, answer.tier, answer.class], ["big", 2, "SIMPLE"]);
    assert.match(answer.reason, /; tier 0 full \(small 4\/4 busy\), spilled up to tier 2: big, the only one that fits$/);
    assert.deepEqual(answer.steps?.map((s) => s.code), ["classified", "planned", "spilled-up", "picked"]);
    assert.deepEqual(
      answer.candidates.map((c) => [c.node, c.verdict, c.because?.code, c.reason]),
      [
        ["big", "chosen", undefined, "chosen: spilled up from full tier 0, the only one that fits; 0/4 busy, weight 1"],
        ["small", "not-chosen", undefined, "tier 0, not chosen; 4/4 busy, weight 1"],
        ["gone", "skipped", "down", "skipped: down"],
      ],
    );

    const refused = routeExplanation.parse((await app.inject({ method: "POST", url: "/cluster/route", payload: { model: "nope", messages: [{ role: "user", content: "hi" }] } })).json());
    assert.deepEqual([refused.kind, refused.unavailable, refused.node, refused.tier, refused.reason], ["unavailable", "unknown-model", null, null, "no node serves 'nope'"]);
  } finally {
    await app.close();
  }
});
