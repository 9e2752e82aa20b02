// The roamer controller's side of the conversation with agents: wishes sent
// until reported, refusals, lost requests, lost nodes and a coordinator
// restart. The agents here are in-memory stand-ins that answer as the real
// agent's assignment routes do (tests/e2e/pools-roamers.test.ts drives real
// agents); the clock is the test's, and tick() is called directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError, type AssignmentReport, type AssignmentRequest, type NodeStatus } from "@flotilla/protocol";
import { clusterPool, clusterTemplate, roamerSettings } from "../config/cluster-file-pools.ts";
import { testNode } from "../router/test-nodes.ts";
import { PoolBook } from "./pool-book.ts";
import { RoamerController, type PoolDemand } from "./roamer-controller.ts";

class Agents {
  readonly reports = new Map<string, AssignmentReport | null>();
  readonly calls: string[] = [];
  /** What its heartbeats say it lists, and what its configuration really takes (they differ once it changed). */
  listed = ["brain-llama"];
  accepts = ["brain-llama"];
  /** When set, the next call fails as an unreachable agent would. */
  failNext = false;

  assignment(name: string, change: AssignmentRequest | null): Promise<AssignmentReport | null> {
    this.calls.push(`${change === null ? "DELETE" : `PUT ${change.template}`} ${name}`);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new FlotillaError("backend_error", `node ${name} is unreachable`));
    }
    if (change === null) {
      this.reports.set(name, null);
      return Promise.resolve(null);
    }
    if (!this.accepts.includes(change.template)) return Promise.reject(new FlotillaError("rejected_by_node", `template "${change.template}" is not listed`, { status: 404 }));
    const report: AssignmentReport = { ...change, state: "provisioning", stateAgeMs: 0 };
    this.reports.set(name, report);
    return Promise.resolve(report);
  }

  /** The agent's workload comes up: its next heartbeat says running. */
  run(name: string): void {
    const report = this.reports.get(name);
    if (report) this.reports.set(name, { ...report, state: "running" });
  }
}

function setup(options: { demand?: PoolDemand; autoscale?: boolean } = {}) {
  let now = 1_000_000;
  const agents = new Agents();
  const nodes: NodeStatus[] = [testNode("brain-1", { pool: "brain" }), testNode("roamer-1", { pool: "roamer" })];
  let demand: PoolDemand = options.demand ?? { queuedJobs: 0, runningJobs: 0, waitingRequests: 0 };
  const book = new PoolBook({
    pools: { brain: clusterPool.parse({ kinds: ["chat"], templates: ["brain-llama"], release_after: 1 }) },
    templates: { "brain-llama": clusterTemplate.parse({ driver: "llama", model: "m" }) },
  });
  const logged: string[] = [];
  const controller = new RoamerController({
    nodes: () =>
      nodes.map((node) => (node.pool === "roamer" ? { ...node, templates: agents.listed, assignment: agents.reports.get(node.name) ?? null } : node)),
    book,
    agents,
    demand: () => Promise.resolve(demand),
    inFlight: () => 0,
    settings: roamerSettings.parse({ autoscale: options.autoscale ?? false, intervalMs: 100 }),
    log: { info: (_d, message) => logged.push(message), warn: (_d, message) => logged.push(message) },
    nowMs: () => now,
    resendMs: 2_000,
  });
  /** A tick and the requests it sent, settled. */
  const tick = async () => {
    await controller.tick();
    await new Promise((resolve) => setImmediate(resolve));
    await controller.tick();
  };
  return {
    agents,
    book,
    controller,
    nodes,
    logged,
    tick,
    advance: (ms: number) => (now += ms),
    setDemand: (d: PoolDemand) => (demand = d),
    state: () => controller.views().find((v) => v.name === "roamer-1")?.state,
  };
}

test("an operator's assignment is PUT once, and the roamer follows the agent's reports to RUNNING and back to IDLE", async () => {
  const t = setup();
  const view = t.controller.assign("roamer-1", { pool: "brain", duration: "manual" });
  assert.equal(view.state, "ASSIGNED");
  assert.equal(view.template, "brain-llama");
  assert.equal(t.book.lentTo("roamer-1"), "brain", "lent from ASSIGNED on: it takes the pool's work once its model is up");
  await t.tick();
  assert.equal(t.state(), "PROVISIONING");
  t.agents.run("roamer-1");
  await t.tick();
  assert.equal(t.state(), "RUNNING");
  assert.deepEqual(t.agents.calls, ["PUT brain-llama roamer-1"], "a wish the agent reports is not sent again");

  t.controller.release("roamer-1");
  assert.equal(t.book.lentTo("roamer-1"), undefined, "no new work while it cleans up");
  await t.tick();
  assert.equal(t.state(), "IDLE");
  assert.deepEqual(t.agents.calls, ["PUT brain-llama roamer-1", "DELETE roamer-1"]);
  assert.deepEqual(t.controller.views()[0]?.history.map((h) => h.state), ["IDLE", "ASSIGNED", "PROVISIONING", "RUNNING", "CLEANUP", "IDLE"]);
});

test("a template the roamer does not list, and a pool that is not declared, are refused before anything is sent", () => {
  const t = setup();
  t.agents.listed = ["other"];
  assert.throws(() => t.controller.assign("roamer-1", { pool: "brain", duration: "until-idle" }), /lists none of pool 'brain''s templates/);
  assert.throws(() => t.controller.assign("roamer-1", { pool: "vision", duration: "until-idle" }), /no pool 'vision'/);
  assert.throws(() => t.controller.assign("brain-1", { pool: "brain", duration: "until-idle" }), /no roamer is named brain-1/, "a dedicated node is never lent");
  assert.deepEqual(t.agents.calls, []);
});

test("an agent that refuses the PUT sends the roamer back to IDLE with the reason", async () => {
  const t = setup();
  // Its configuration changed since its last heartbeat.
  t.agents.accepts = [];
  t.controller.assign("roamer-1", { pool: "brain", duration: "until-idle" });
  await t.tick();
  const view = t.controller.views()[0];
  assert.equal(view?.state, "IDLE");
  assert.match(view?.lastError ?? "", /not listed/);
});

test("a PUT that is lost is sent again after resendMs, not at every tick", async () => {
  const t = setup();
  t.agents.failNext = true;
  t.controller.assign("roamer-1", { pool: "brain", duration: "until-idle" });
  await t.tick();
  assert.equal(t.state(), "ASSIGNED");
  await t.tick();
  assert.equal(t.agents.calls.length, 1, "within resendMs nothing more is sent");
  t.advance(2_000);
  await t.tick();
  assert.equal(t.agents.calls.length, 2);
  assert.equal(t.state(), "PROVISIONING");
});

test("a roamer whose node goes down is forgotten: IDLE, no longer lent", async () => {
  const t = setup();
  t.controller.assign("roamer-1", { pool: "brain", duration: "until-idle" });
  await t.tick();
  const roamerNode = t.nodes[1];
  assert.ok(roamerNode);
  roamerNode.health = "down";
  await t.tick();
  const view = t.controller.views()[0];
  assert.equal(view?.state, "IDLE");
  assert.match(view?.lastError ?? "", /node lost/);
  assert.equal(t.book.lentTo("roamer-1"), undefined);
});

test("after a coordinator restart, a roamer still running its lending is adopted, not left unaccounted for", async () => {
  const t = setup();
  t.agents.reports.set("roamer-1", { id: "before-restart", template: "brain-llama", pool: "brain", state: "running", stateAgeMs: 60_000 });
  await t.tick();
  const view = t.controller.views()[0];
  assert.equal(view?.state, "RUNNING");
  assert.equal(view?.pool, "brain");
  assert.equal(t.book.lentTo("roamer-1"), "brain");
  assert.deepEqual(t.agents.calls, [], "its report already agrees: nothing to send");
});

test("the autoscaler lends the roamer when the pool backs up and takes it back once the pool stays idle", async () => {
  const t = setup({ autoscale: true, demand: { queuedJobs: 10, runningJobs: 1, waitingRequests: 0 } });
  await t.tick();
  const lent = t.controller.views()[0];
  assert.equal(lent?.state, "PROVISIONING");
  assert.equal(lent?.reason, "overflow");
  t.agents.run("roamer-1");
  t.advance(200);
  await t.tick();
  assert.equal(t.state(), "RUNNING");
  t.setDemand({ queuedJobs: 0, runningJobs: 0, waitingRequests: 0 });
  t.advance(500);
  await t.tick();
  assert.equal(t.state(), "RUNNING", "idle for less than release_after (1 s)");
  t.advance(1_000);
  await t.tick();
  assert.equal(t.state(), "IDLE");
});
