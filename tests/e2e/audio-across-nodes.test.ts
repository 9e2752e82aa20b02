// The audio API across processes, as the seed's hybrid cluster splits it: a
// coordinator, an agent in the `voice` pool serving only the speech engines,
// and an agent in the `brain` pool serving the language model. Speech and
// transcription go to the voice node and chat to the brain node, each by
// what its models advertise.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { toFile } from "openai";
import { runCli, startCoordinator, startFlotilla, testModelPath, TEST_MODEL_ID, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

describe("speech on one agent, the language model on another", () => {
  let dir: string;
  const started: FlotillaProcess[] = [];
  let client: OpenAI;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-audio-nodes-"));
    const { coordinator, adminKey } = await startCoordinator({ dir, clusterFile: [], heartbeatIntervalMs: 1_000, label: "audio_nodes" });
    started.push(coordinator);
    const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_URL: coordinator.url };
    const token = async () => (await runCli(["token", "create"], env)).stdout.trim();
    const agent = async (name: string, args: string[]) =>
      startFlotilla({ command: "agent", dataDir: path.join(dir, name), env: { FLOTILLA_JOIN_TOKEN: await token() }, args: ["--join", coordinator.url, "--name", name, ...args] });
    started.push(await agent("voice-node", ["--pool", "voice", "--speech"]));
    started.push(await agent("brain-node", ["--pool", "brain", "--model", await testModelPath(), "--threads", "1"]));
    await waitForClusterStatus(coordinator.url, adminKey, "both agents with their models", (status) =>
      ["voice-node", "brain-node"].every((name) => status.nodes.some((node) => node.name === name && node.state === "ready" && node.models.length > 0)),
    );
    client = new OpenAI({ apiKey: adminKey, baseURL: `${coordinator.url}/v1` });
  });
  after(async () => {
    for (const process of started.reverse()) await process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("speech and its transcript come from the voice node, the answer from the brain node", async () => {
    const speech = await client.audio.speech.create({ model: "tts-1", voice: "echo", input: "one two three four five", response_format: "flac" });
    assert.equal(speech.headers.get("x-flotilla-node"), "voice-node");
    const flac = Buffer.from(await speech.arrayBuffer());
    assert.equal(flac.subarray(0, 4).toString("latin1"), "fLaC");

    const raw = await client.audio.transcriptions.create({ file: await toFile(flac, "count.flac"), model: "whisper-1", response_format: "verbose_json" }).asResponse();
    assert.equal(raw.headers.get("x-flotilla-node"), "voice-node");
    const body = (await raw.json()) as { text: string; duration: number };
    assert.ok(body.duration > 1, JSON.stringify(body));

    const chat = await client.chat.completions.create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: body.text || "one" }], max_tokens: 4 }).asResponse();
    assert.equal(chat.headers.get("x-flotilla-node"), "brain-node");
  });
});
