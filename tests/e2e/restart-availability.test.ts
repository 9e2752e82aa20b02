// A coordinator restarted under a running cluster keeps answering "come back
// soon" for the models its agents served, instead of "no such model", until
// they heartbeat again or the grace period ends (docs/adr/0027). Real
// processes: a coordinator and an agent serving the real test model. The agent
// is paused (SIGSTOP) across the restart, so it cannot heartbeat before the
// first request whatever the machine's speed, and resumed (SIGCONT) after.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, runCli, startFlotilla, testAdminKey, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

// Long enough that the grace period (three intervals) outlasts a slow restart and the first request.
const BEAT_MS = 2_000;

describe("a coordinator restarted while its agent is away", () => {
  let port: number;
  let coordinatorDir: string;
  let agentDir: string;
  let coordinator: FlotillaProcess;
  let agent: FlotillaProcess;
  let adminEnv: Record<string, string>;

  const startCoordinator = () =>
    startFlotilla({ command: "coordinator", port, dataDir: coordinatorDir, env: adminEnv, args: ["--heartbeat-interval-ms", String(BEAT_MS)] });
  const chat = () =>
    fetch(`${coordinator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
    });
  const agentState = async (check: (node: { state: string; models: Array<{ id: string }> } | undefined) => boolean, what: string) =>
    waitForClusterStatus(coordinator.url, adminEnv.FLOTILLA_ADMIN_KEY ?? "", what, (s) => check(s.nodes.find((n) => n.name === "away")), 30_000);

  before(async () => {
    port = await freePort();
    coordinatorDir = await mkdtemp(path.join(tmpdir(), "flotilla-restart-coord-"));
    agentDir = await mkdtemp(path.join(tmpdir(), "flotilla-restart-agent-"));
    adminEnv = { FLOTILLA_ADMIN_KEY: testAdminKey(`restart_${port}`), FLOTILLA_URL: `http://127.0.0.1:${port}` };
    coordinator = await startCoordinator();
    const token = await runCli(["token", "create"], adminEnv);
    assert.equal(token.code, 0, token.stderr);
    agent = await startFlotilla({
      command: "agent",
      dataDir: agentDir,
      args: ["--join", coordinator.url, "--token", token.stdout.trim(), "--name", "away", "--model", await testModelPath(), "--heartbeat-interval-ms", String(BEAT_MS)],
    });
    await agentState((n) => n?.state === "ready", "the agent ready");
  });
  after(async () => {
    agent.child.kill("SIGCONT");
    await agent.stop();
    await coordinator.stop();
    await Promise.all([coordinatorDir, agentDir].map((d) => rm(d, { recursive: true, force: true })));
  });

  test("its models answer 503 with Retry-After, not 404, until the agent is back; then 200", async () => {
    assert.equal((await chat()).status, 200, "served before the restart");
    agent.child.kill("SIGSTOP");
    await coordinator.stop();
    coordinator = await startCoordinator();

    const early = await chat();
    const body = (await early.json()) as { error: { code: string; message: string } };
    assert.equal(early.status, 503, JSON.stringify(body));
    assert.equal(body.error.code, "no_backend");
    assert.ok(Number(early.headers.get("retry-after")) >= 1, "a Retry-After the client can follow");

    agent.child.kill("SIGCONT");
    await agentState((n) => n?.state === "ready", "the agent back after the restart");
    // The router sees health within its snapshot's age (250 ms): the first
    // request after the heartbeat may still get the 503, whose Retry-After
    // a client follows. Served again within a few tries, never a 404.
    const deadline = Date.now() + 5_000;
    let status = (await chat()).status;
    while (status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await chat()).status;
    }
    assert.equal(status, 200);
  });

  test("an agent that does not come back within the grace period is no longer expected: 404", async () => {
    agent.child.kill("SIGSTOP");
    await coordinator.stop();
    coordinator = await startCoordinator();
    assert.equal((await chat()).status, 503, "expected back at first");
    await agentState((n) => n !== undefined && n.models.length === 0, "the remembered models dropped after the grace period");
    const late = await chat();
    assert.equal(late.status, 404);
    assert.equal(((await late.json()) as { error: { code: string } }).error.code, "model_not_found");
    agent.child.kill("SIGCONT");
    await agentState((n) => n?.state === "ready", "the agent back at last");
  });
});
