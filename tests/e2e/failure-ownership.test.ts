// Whose fault a failure is (ADR 0018), against real server processes: a
// coordinator with two agentless OpenAI nodes, each a status server
// (fixtures/status-server.ts) whose answer the test sets. "first" is tier 0,
// so a simple request goes there first; "second" (tier 1) always answers.
// A 4xx is the request's: the client gets it as it was, once, and no circuit
// moves. 408/429/503 are busy: tried elsewhere, not counted, and a
// Retry-After is honoured. A 5xx is the node's: tried elsewhere, counted.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fetchClusterStatus, startCoordinator, stopChild, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/status-server.ts");

interface StatusServer {
  url: string;
  child: ChildProcess;
  set(control: { status: number; retryAfter?: string; message?: string }): Promise<void>;
  generations(): Promise<number>;
}

async function startStatusServer(): Promise<StatusServer> {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.setEncoding("utf8");
  const [line] = (await once(child.stdout, "data")) as [string];
  const url = line.trim();
  return {
    url,
    child,
    set: async (control) => {
      const res = await fetch(`${url}/control`, { method: "POST", body: JSON.stringify(control) });
      assert.equal(res.status, 204);
    },
    generations: async () => ((await (await fetch(`${url}/control`)).json()) as { generations: number }).generations,
  };
}

describe("whose fault a failure is", () => {
  let dir: string;
  let first: StatusServer;
  let second: StatusServer;
  let coordinator: FlotillaProcess;
  let adminKey: string;

  const chat = () =>
    fetch(`${coordinator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
    });
  const circuitOf = async (name: string) => {
    const node = (await fetchClusterStatus(coordinator.url, adminKey)).nodes.find((n) => n.name === name);
    assert.ok(node);
    return node.circuit;
  };
  /** Generations each server got while `run` ran. */
  const counted = async (run: () => Promise<void>) => {
    const before = [await first.generations(), await second.generations()];
    await run();
    return { first: (await first.generations()) - (before[0] ?? 0), second: (await second.generations()) - (before[1] ?? 0) };
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-fault-"));
    [first, second] = await Promise.all([startStatusServer(), startStatusServer()]);
    ({ coordinator, adminKey } = await startCoordinator({
      dir,
      label: "fault",
      heartbeatIntervalMs: 250,
      clusterFile: [
        "nodes:",
        "  - name: first", `    url: ${first.url}`, "    kind: openai", "    tier: 0",
        "  - name: second", `    url: ${second.url}`, "    kind: openai", "    tier: 1",
        "routing:",
        "  circuit: { failuresToOpen: 3 }",
      ],
    }));
    await waitForClusterStatus(coordinator.url, adminKey, "both servers ready", (s) => s.nodes.filter((n) => n.state === "ready").length === 2);
  });
  after(async () => {
    await coordinator.stop();
    await Promise.all([stopChild(first.child, 2_000), stopChild(second.child, 2_000)]);
    await rm(dir, { recursive: true, force: true });
  });

  test("400 context length: the client gets it as the server said it, it is sent once, and no circuit moves", async () => {
    const message = "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens.";
    await first.set({ status: 400, message });
    const sent = await counted(async () => {
      const res = await chat();
      assert.equal(res.status, 400);
      const { error } = (await res.json()) as { error: { code: string; message: string; type: string } };
      assert.equal(error.code, "context_length_exceeded");
      assert.equal(error.message, message);
      assert.equal(error.type, "invalid_request_error");
    });
    assert.deepEqual(sent, { first: 1, second: 0 }, "not retried on another node: it would say the same");
    assert.equal((await circuitOf("first")).consecutiveFailures, 0);
  });

  test("422 from the server: passed on with its own status and message", async () => {
    await first.set({ status: 422, message: "temperature: must be at most 2" });
    const sent = await counted(async () => {
      const res = await chat();
      assert.equal(res.status, 422);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.deepEqual(error.code, "rejected_by_node");
      assert.equal(error.message, "temperature: must be at most 2");
    });
    assert.deepEqual(sent, { first: 1, second: 0 });
  });

  test("500: the node's fault, retried on the other node, and counted against its circuit", async () => {
    await first.set({ status: 500, message: "CUDA out of memory" });
    const sent = await counted(async () => {
      const res = await chat();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-flotilla-node"), "second");
    });
    assert.deepEqual(sent, { first: 1, second: 1 });
    assert.equal((await circuitOf("first")).consecutiveFailures, 1);
  });

  for (const status of [503, 408]) {
    test(`${status} without Retry-After: busy, retried on the other node, not counted`, async () => {
      await first.set({ status: 200 });
      assert.equal((await chat()).status, 200); // a success closes the circuit again
      await first.set({ status });
      const sent = await counted(async () => {
        const res = await chat();
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("x-flotilla-node"), "second");
      });
      assert.deepEqual(sent, { first: 1, second: 1 });
      const circuit = await circuitOf("first");
      assert.equal(circuit.consecutiveFailures, 0);
      assert.equal(circuit.state, "closed");
    });
  }

  test("429 with Retry-After: retried on the other node, and the busy one gets nothing until its time is up", async () => {
    await first.set({ status: 429, retryAfter: "30", message: "rate limited" });
    const sent = await counted(async () => {
      for (let i = 0; i < 3; i++) assert.equal((await chat()).status, 200);
    });
    assert.deepEqual(sent, { first: 1, second: 3 }, "only the first request found out");
    const circuit = await circuitOf("first");
    assert.equal(circuit.consecutiveFailures, 0);
    assert.equal(circuit.state, "open");
    assert.ok(circuit.ejectionLeftMs > 25_000, `paused for its Retry-After (${circuit.ejectionLeftMs} ms left)`);
  });

  test("every node busy: the client gets 503 with the nodes' Retry-After", async () => {
    // first is paused, but as the last node left for the model it is asked anyway (never eject the last one).
    await first.set({ status: 429, retryAfter: "9" });
    await second.set({ status: 429, retryAfter: "9" });
    const res = await chat();
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "9");
    const { error } = (await res.json()) as { error: { code: string } };
    assert.equal(error.code, "server_busy");
  });
});
