// Speech on an agentless OpenAI-compatible audio server: the cluster file
// names its speech models, and the coordinator calls its /v1/audio routes.
// The server here is a real `flotilla up --speech` (an OpenAI-compatible
// audio server like Kokoro-FastAPI or speaches, with espeak-ng and
// pocketsphinx behind it), added to a coordinator as a node of kind openai.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import OpenAI, { toFile } from "openai";
import { runCli, startCoordinator, startFlotilla, testAdminKey, waitForClusterStatus, type FlotillaProcess } from "@flotilla/testkit";

describe("an agentless OpenAI-compatible speech server", () => {
  let dir: string;
  const started: FlotillaProcess[] = [];
  let client: OpenAI;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-audio-agentless-"));
    const server = await startFlotilla({ args: ["--speech"] });
    started.push(server);
    const { coordinator, adminKey } = await startCoordinator({
      dir,
      heartbeatIntervalMs: 1_000,
      label: "audio_agentless",
      clusterFile: ["nodes:", "  - name: speech-server", `    url: ${server.url}`, "    kind: openai", "    speech:", "      tts: [espeak-ng]", "      stt: [pocketsphinx-en-us]"],
    });
    started.push(coordinator);
    await waitForClusterStatus(coordinator.url, adminKey, "the speech server up with its models", (status) =>
      status.nodes.some((node) => node.name === "speech-server" && node.state === "ready" && node.models.some((m) => m.capabilities.includes("tts"))),
    );
    client = new OpenAI({ apiKey: adminKey, baseURL: `${coordinator.url}/v1` });
  });
  after(async () => {
    for (const process of started.reverse()) await process.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("speech and transcription go to its /v1/audio routes; its models advertise tts and stt only", async () => {
    const speech = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "one two three four five", response_format: "wav" }).asResponse();
    assert.equal(speech.headers.get("x-flotilla-node"), "speech-server");
    const wav = Buffer.from(await speech.arrayBuffer());
    assert.equal(wav.subarray(0, 4).toString("latin1"), "RIFF");

    const raw = await client.audio.transcriptions.create({ file: await toFile(wav, "count.wav"), model: "whisper-1", response_format: "verbose_json", timestamp_granularities: ["word"] }).asResponse();
    assert.equal(raw.headers.get("x-flotilla-node"), "speech-server");
    const transcript = (await raw.json()) as { duration: number; language: string; words: unknown[] };
    assert.ok(transcript.duration > 1 && transcript.words.length > 0, JSON.stringify(transcript));
    assert.equal(transcript.language, "english");

    const chat = await client.chat.completions.create({ model: "espeak-ng", messages: [{ role: "user", content: "hi" }], max_tokens: 2 }).catch((err: unknown) => err);
    assert.ok(chat instanceof OpenAI.BadRequestError, "a speech model is not a chat model");
  });

  test("speech models on an Ollama node are refused at start, naming the field", async () => {
    const file = path.join(dir, "bad.yaml");
    await writeFile(file, ["nodes:", "  - name: o", "    url: http://127.0.0.1:11434", "    kind: ollama", "    speech:", "      tts: [x]", ""].join("\n"));
    const run = await runCli(["coordinator", "--cluster-file", file, "--data-dir", path.join(dir, "bad"), "--port", "0"], { FLOTILLA_ADMIN_KEY: testAdminKey("audio_bad_file") });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /speech.*kind: openai/);
  });
});
