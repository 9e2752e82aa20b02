// The model-backed classifier for real: a coordinator whose cluster file asks
// the test model on a tier-0 agent how hard each request is. The test model
// writes stories, not class names, so what this shows is the round trip and
// the fallback: the model on that node was asked, and the heuristic decided.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, runCli, testAdminKey, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

describe("a model-backed classifier", () => {
  let dir: string;
  let coordinator: FlotillaProcess;
  let agent: FlotillaProcess;
  let adminKey: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-classifier-"));
    const port = await freePort();
    adminKey = testAdminKey(`classifier_${port}`);
    const clusterFile = path.join(dir, "cluster.yaml");
    await writeFile(clusterFile, `routing:\n  classifier: { model: ${TEST_MODEL_ID}, timeoutMs: 5000 }\n`);
    coordinator = await startFlotilla({
      command: "coordinator",
      port,
      dataDir: path.join(dir, "coordinator"),
      env: { FLOTILLA_ADMIN_KEY: adminKey },
      args: ["--cluster-file", clusterFile],
    });
    const token = await runCli(["token", "create"], { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: coordinator.url });
    assert.equal(token.code, 0, token.stderr);
    agent = await startFlotilla({
      command: "agent",
      dataDir: path.join(dir, "agent"),
      args: ["--join", coordinator.url, "--token", token.stdout.trim(), "--name", "small", "--tier", "0", "--model", await testModelPath(), "--threads", "1"],
    });
    await waitForClusterStatus(coordinator.url, adminKey, "the agent ready", (s) => s.nodes[0]?.state === "ready");
  });
  after(async () => {
    await agent?.stop();
    await coordinator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("each request's class comes from asking the model on the tier-0 node, the heuristic deciding when it gives none", async () => {
    const res = await fetch(`${coordinator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "What's 2+2?" }], max_tokens: 4 }),
    });
    assert.equal(res.status, 200);
    const route = res.headers.get("x-flotilla-route") ?? "";
    assert.match(route, /^SIMPLE: /);
    assert.match(route, new RegExp(`asked ${TEST_MODEL_ID} on small`), route);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    assert.equal(body.usage.completion_tokens, 4);
  });
});
