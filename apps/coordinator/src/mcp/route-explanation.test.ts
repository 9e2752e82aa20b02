// explain_route's answer is POST /cluster/route's, field for field: the
// two are built in two places (docs/adr/0031), so this test is what keeps
// them one. A real Router over fixed node statuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { routeExplanation, type InferenceNode, type NodeStatus, type WorkloadResult } from "@flotilla/protocol";
import { NodeRegistry } from "../nodes/node-registry.ts";
import { Router } from "../router/router.ts";
import { testNode, type NodeSpec } from "../router/test-nodes.ts";
import { registerRouteExplainRoutes } from "../api/route-explain-routes.ts";
import { chatToGeneration } from "../gateway/translate.ts";
import { explanationOf } from "../router/explanation.ts";
import { explanationText } from "./route-explanation.ts";

/** A node that only reports a status: routes are explained, never run. */
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
  run(): Promise<WorkloadResult> {
    return Promise.reject(new Error("not used"));
  }
}

async function bothWays(model: string): Promise<{ mine: unknown; route: unknown; text: string }> {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("small", { tier: 0 }));
  registry.add(new StaticNode("big", { tier: 2 }));
  registry.add(new StaticNode("gone", { tier: 0, health: "down" }));
  const router = new Router(registry, { nowMs: () => 0, random: () => 0.5 });
  for (let i = 0; i < 4; i++) router.dispatched("small", undefined);
  const body = { model, messages: [{ role: "user" as const, content: "hi" }] };
  const app = Fastify();
  registerRouteExplainRoutes(app, router);
  try {
    const res = await app.inject({ method: "POST", url: "/cluster/route", payload: body });
    const explanation = explanationOf(await router.explain(chatToGeneration(body), {}));
    return { mine: routeExplanation.parse(explanation), route: routeExplanation.parse(res.json()), text: explanationText(explanation) };
  } finally {
    await app.close();
  }
}

test("a chosen route: the same answer as /cluster/route, and in words the node, the reason and every node", async () => {
  const { mine, route, text } = await bothWays("m");
  assert.deepEqual(mine, route);
  const lines = text.split("\n");
  assert.match(lines[0] ?? "", /^It would go to big \(tier 2\), model m\. Class SIMPLE, about \d+ prompt tokens\.$/);
  assert.match(lines[1] ?? "", /^Why: .*spilled up to tier 2: big, the only one that fits\.$/);
  assert.deepEqual(lines.slice(2).map((l) => l.split(":")[0]), ["Nodes", "- big (tier 2)", "- small (tier 0)", "- gone (tier 0)"]);
});

test("no route: the same answer, saying why", async () => {
  const { mine, route, text } = await bothWays("no-such-model");
  assert.deepEqual(mine, route);
  assert.ok(text.startsWith("No node can take this request now."), text);
});
