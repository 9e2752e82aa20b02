// Adding, keeping and removing agentless nodes, against a fake OpenAI server
// on loopback and a real SQLite store.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent } from "undici";
import { FlotillaError, type InferenceNode } from "@flotilla/protocol";
import { SqliteStore } from "../../store/sqlite-store.ts";
import { NodeRegistry } from "../node-registry.ts";
import { healthPolicy } from "../node-health.ts";
import { NetworkAllowlist, resolveAndCheckNodeUrl } from "../../config/url-policy.ts";
import { ConfigError } from "../../config/load-config-file.ts";
import type { ClusterNode } from "../../config/cluster-file.ts";
import { AgentlessNodes, addNodeBody, defaultNodeName } from "./agentless-nodes.ts";

const dispatcher = new Agent();
let server: Server;
let serverUrl: string;
let dir: string;
const authorizations: Array<string | undefined> = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "flotilla-agentless-"));
  server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "m" }] }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  serverUrl = `http://127.0.0.1:${address.port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await dispatcher.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(file: string, fileNodes: ClusterNode[] = [], registry = new NodeRegistry()) {
  const store = new SqliteStore(path.join(dir, file));
  const warnings: string[] = [];
  const allowlist = NetworkAllowlist.default();
  const nodes = await AgentlessNodes.load(
    {
      records: store.agentlessNodes,
      registry,
      policy: healthPolicy(60_000),
      dispatcher,
      checkUrl: async (url) => {
        const checked = await resolveAndCheckNodeUrl(url, allowlist);
        return checked.ok ? null : checked.reason;
      },
      env: { FLOTILLA_NODE_KEY_BOX: " sk-box\n", PATH: "/usr/bin", HF_TOKEN: "hf_secret" },
      apiKeyEnvPrefixes: ["FLOTILLA_NODE_KEY_"],
      nowMs: Date.now,
      warn: (m) => warnings.push(m),
    },
    fileNodes,
  );
  await nodes.healthChecks.start();
  return {
    nodes,
    registry,
    store,
    warnings,
    close: async () => {
      await nodes.healthChecks.stop();
      await store.close();
    },
  };
}

const input = (fields: Record<string, unknown>) => addNodeBody.parse({ url: serverUrl, ...fields });

function fileNode(name: string): ClusterNode {
  return { name, url: serverUrl, kind: "openai", tier: 2, pool: "default", models: [], weight: 1, labels: {}, apiKey: undefined };
}

async function rejectsWith(promise: Promise<unknown>, code: string, param: string | null) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof FlotillaError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.param, param);
    return true;
  });
}

async function waitReady(node: InferenceNode | undefined) {
  for (let i = 0; i < 200 && node?.status(Date.now()).health !== "ready"; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(node?.status(Date.now()).health, "ready");
}

test("a default name is host-port, made valid", () => {
  assert.equal(defaultNodeName(new URL("http://192.168.1.20:11434")), "192.168.1.20-11434");
  assert.equal(defaultNodeName(new URL("https://gpu.lan/v1")), "gpu.lan-443");
  assert.equal(defaultNodeName(new URL("http://[::1]:8080")), "1-8080");
  assert.equal(defaultNodeName(new URL("http://[fd00::5]")), "fd00-5-80");
});

test("an added node is checked at once, answered with its status, and kept across a restart", async () => {
  const first = await open("keep.db");
  const status = await first.nodes.add(input({ tier: 0, labels: { gpu: "none" } }));
  const name = defaultNodeName(new URL(serverUrl));
  assert.equal(status.name, name);
  assert.equal(status.health, "ready");
  assert.deepEqual(status.models.map((m) => m.id), ["m"]);
  assert.deepEqual([status.tier, status.weight, status.labels], [0, 1, { gpu: "none" }]);
  await first.nodes.setDrained(name, true);
  await first.close();

  const second = await open("keep.db");
  const again = second.registry.get(name);
  await waitReady(again);
  assert.equal(again?.status(Date.now()).drained, true, "the drain was kept too");
  await second.nodes.remove(name);
  assert.equal(second.registry.get(name), undefined);
  await second.close();
  const third = await open("keep.db");
  assert.equal(third.registry.statuses(Date.now()).length, 0);
  await third.close();
});

test("refusals: a URL outside the allowlist or not http, a taken name, an unset token variable", async () => {
  const { nodes, close } = await open("refuse.db");
  await rejectsWith(nodes.add(input({ url: "http://8.8.8.8:11434" })), "invalid_request", "url");
  await rejectsWith(nodes.add(input({ url: "file:///etc/passwd" })), "invalid_request", "url");
  await rejectsWith(nodes.add(input({ url: "http://169.254.169.254/" })), "invalid_request", "url");
  await rejectsWith(nodes.add(input({ name: "a", apiKeyEnv: "FLOTILLA_NODE_KEY_NOT_SET" })), "invalid_request", "apiKeyEnv");
  await nodes.add(input({ name: "a" }));
  await rejectsWith(nodes.add(input({ name: "a", kind: "ollama" })), "conflict", "name");
  await rejectsWith(nodes.remove("nobody"), "not_found", "name");
  await close();
});

test("the token named by apiKeyEnv is sent as a bearer token, trimmed", async () => {
  const { nodes, close } = await open("token.db");
  authorizations.length = 0;
  await nodes.add(input({ name: "with-token", apiKeyEnv: "FLOTILLA_NODE_KEY_BOX" }));
  assert.deepEqual(authorizations, ["Bearer sk-box"]);
  await close();
});

test("apiKeyEnv cannot name the coordinator's other variables, through the API or from the store", async () => {
  const { nodes, store, close } = await open("env-names.db");
  authorizations.length = 0;
  for (const name of ["PATH", "HF_TOKEN"]) {
    const err = await nodes.add(input({ name: `by-${name.toLowerCase().replace("_", "-")}`, apiKeyEnv: name })).then(
      () => assert.fail(`${name} was accepted`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof FlotillaError && err.code === "invalid_request" && err.param === "apiKeyEnv", String(err));
    assert.match(err.message, new RegExp(`${name} is not a node token variable: its name must start with FLOTILLA_NODE_KEY_`));
  }
  // A node stored before the rule (or under other prefixes) is kept but never called with that variable.
  const stored = { url: serverUrl, kind: "openai" as const, tier: 1 as const, pool: "default", models: [], weight: 1, labels: {}, drained: false, addedAtMs: 0 };
  await store.agentlessNodes.add({ ...stored, name: "old", apiKeyEnv: "HF_TOKEN" });
  await close();
  const reopened = await open("env-names.db");
  assert.ok(reopened.warnings.some((w) => w.startsWith("node old: HF_TOKEN is not a node token variable")), reopened.warnings.join("\n"));
  // Its first health check ran at load; stop waits for it.
  await reopened.nodes.healthChecks.stop();
  assert.match(reopened.registry.get("old")?.status(Date.now()).error ?? "", /HF_TOKEN is not a node token variable/);
  assert.ok(!authorizations.includes("Bearer hf_secret") && !authorizations.includes("Bearer /usr/bin"), authorizations.join(", "));
  await reopened.close();
});

test("cluster-file nodes: registered at load, drained in memory, not removable through the API", async () => {
  const { nodes, registry, close } = await open("file.db", [fileNode("from-file")]);
  await waitReady(registry.get("from-file"));
  await nodes.setDrained("from-file", true);
  assert.equal(registry.get("from-file")?.status(Date.now()).drained, true);
  await assert.rejects(nodes.remove("from-file"), /declared in the cluster file: remove it there/);
  await close();
});

test("a file node takes the place of a stored node of its name; one named like a joined agent stops the start", async () => {
  const first = await open("shadow.db");
  await first.nodes.add(input({ name: "shared" }));
  await first.close();
  const second = await open("shadow.db", [fileNode("shared")]);
  assert.equal(second.nodes.get("shared")?.origin, "file");
  assert.match(second.warnings.join("\n"), /cluster file now declares shared/);
  assert.deepEqual(await second.store.agentlessNodes.list(), []);
  await second.close();

  const registry = new NodeRegistry();
  registry.add({ name: "desk", status: () => { throw new Error("unused"); }, run: () => Promise.reject(new Error("unused")) });
  await assert.rejects(open("agent.db", [fileNode("other"), fileNode("desk")], registry), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^nodes\[1\]\.name: "desk" is already the name of a joined agent/);
    return true;
  });
});
