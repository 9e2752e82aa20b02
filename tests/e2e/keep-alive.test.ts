// On-demand load and idle unload across real processes (issue 17): an agent
// started with --keep-alive 1s unloads the test model once idle, still lists
// it (state "unloaded"), and a chat request through the coordinator is not
// refused: it waits in the busy queue while the coordinator has the agent
// load the model again, and is answered once the agent reports it loaded.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { runCli, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

describe("a model unloaded when idle and loaded again on demand", () => {
  let dir: string;
  const started: FlotillaProcess[] = [];
  let url: string;
  let adminKey: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-keep-alive-"));
    const cluster = await startCoordinator({ dir, clusterFile: [], heartbeatIntervalMs: 500, label: "keep_alive" });
    started.push(cluster.coordinator);
    url = cluster.coordinator.url;
    adminKey = cluster.adminKey;
    const token = (await runCli(["token", "create"], { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: url })).stdout.trim();
    started.push(
      await startFlotilla({
        command: "agent",
        dataDir: path.join(dir, "agent"),
        env: { FLOTILLA_JOIN_TOKEN: token },
        args: ["--join", url, "--name", "napper", "--model", await testModelPath(), "--slots", "1", "--ctx-size", "256", "--keep-alive", "1s"],
      }),
    );
  });
  after(async () => {
    for (const process of started.reverse()) await process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("the idle model is listed as unloaded; a request waits for it to load and is answered", async () => {
    const stateOf = (status: Awaited<ReturnType<typeof waitForClusterStatus>>) =>
      status.nodes.find((n) => n.name === "napper")?.models.find((m) => m.id === TEST_MODEL_ID)?.state ?? "loaded";
    await waitForClusterStatus(url, adminKey, "the model unloaded after a second idle", (status) => stateOf(status) === "unloaded", 20_000);
    const client = new OpenAI({ apiKey: adminKey, baseURL: `${url}/v1`, maxRetries: 0 });
    const listed = await client.models.list();
    assert.ok(listed.data.some((m) => m.id === TEST_MODEL_ID), "an unloaded model is still one the cluster serves");
    const answer = await client.chat.completions.create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 8 }).withResponse();
    assert.equal(answer.response.headers.get("x-flotilla-node"), "napper");
    assert.ok((answer.data.choices[0]?.message.content ?? "").length > 0, "answered by the model loaded again, without a retry by the client");
  });
});
