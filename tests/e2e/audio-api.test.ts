// OpenAI's audio API against a real `flotilla up --speech`: the official
// openai client asks espeak-ng for speech and pocketsphinx for a transcript
// of it, through the router and the dispatcher like any workload. The
// engines are the real Debian programs (scripts/ensure-debian-packages.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

/** Seconds of audio in a PCM wav, from its header. */
function wavSeconds(wav: Buffer): number {
  assert.equal(wav.subarray(0, 4).toString("latin1"), "RIFF");
  assert.equal(wav.subarray(8, 12).toString("latin1"), "WAVE");
  const byteRate = wav.readUInt32LE(28);
  return (wav.length - 44) / byteRate;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: { error?: { param: string | null; code: string; message: string } } }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: { param: string | null; code: string; message: string } } };
}

describe("the audio API through flotilla up --speech", () => {
  let fl: FlotillaProcess;
  let client: OpenAI;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath(), "--speech"] });
    client = new OpenAI({ apiKey: "open", baseURL: `${fl.url}/v1` });
  });
  after(() => fl.stop());

  test("speech comes back as the format asked, from the node that runs espeak-ng", async () => {
    const wav = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Good morning, how are you?", response_format: "wav" });
    assert.equal(wav.headers.get("content-type"), "audio/wav");
    assert.ok(wav.headers.get("x-flotilla-node"), "the answering node is named");
    const bytes = Buffer.from(await wav.arrayBuffer());
    const seconds = wavSeconds(bytes);
    assert.ok(seconds > 0.8 && seconds < 5, `${seconds} s of speech`);

    const mp3 = Buffer.from(await (await client.audio.speech.create({ model: "espeak-ng", voice: "nova", input: "Hello there." })).arrayBuffer());
    assert.ok(mp3.subarray(0, 3).toString("latin1") === "ID3" || (mp3[0] === 0xff && ((mp3[1] ?? 0) & 0xe0) === 0xe0), "mp3 by default, as OpenAI's");
    const faster = Buffer.from(await (await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: "Good morning, how are you?", response_format: "wav", speed: 2 })).arrayBuffer());
    assert.ok(wavSeconds(faster) < seconds * 0.8, "speed 2 is quicker");
  });

  test("a transcription of espeak-ng's speech by pocketsphinx, as json, verbose_json with words, and srt", async () => {
    // pocketsphinx hears little of espeak-ng's voice; counting is what it gets best.
    const counting = "one two three four five six seven eight nine ten";
    const spoken = Buffer.from(await (await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: counting, response_format: "wav" })).arrayBuffer());
    const plain = await client.audio.transcriptions.create({ file: await toFile(spoken, "count.wav"), model: "whisper-1" });
    const heard = plain.text.split(/\s+/).filter((word) => counting.split(" ").includes(word));
    assert.ok(heard.length >= 2, `heard "${plain.text}"`);

    const verbose = await client.audio.transcriptions.create({
      file: await toFile(spoken, "count.wav"),
      model: "pocketsphinx-en-us",
      response_format: "verbose_json",
      timestamp_granularities: ["word"],
    });
    assert.equal(verbose.language, "english");
    assert.ok(verbose.duration > 0.8);
    const words = verbose.words ?? [];
    assert.ok(words.length >= 3, JSON.stringify(words));
    for (const [i, word] of words.entries()) {
      assert.ok(word.start <= word.end && word.end <= verbose.duration + 0.05, JSON.stringify(word));
      if (i > 0) assert.ok(word.start >= (words[i - 1]?.end ?? 0) - 0.01, "in order");
    }
    const srt = await client.audio.transcriptions.create({ file: await toFile(spoken, "count.wav"), model: "whisper-1", response_format: "srt" });
    assert.match(String(srt), /^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\S/);
    assert.ok(heard.some((word) => String(srt).includes(word)), "the same words as the json");
  });

  test("speech and transcription as jobs: the audio is kept as a file of the key, the transcript as the result", async () => {
    const submit = async (body: unknown) => {
      const res = await fetch(`${fl.url}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { id: string; pool: string }).id;
    };
    const finished = async (id: string) => {
      const events = await (await fetch(`${fl.url}/v1/jobs/${id}/events`)).text();
      const last = events.split("\n\n").filter((block) => block.startsWith("data: ")).at(-1) ?? "";
      return (JSON.parse(last.slice(6)) as { job: { state: string; pool: string; error: unknown } }).job;
    };
    const speechJob = await submit({ kind: "speech", input: { input: "one two three four five", response_format: "wav" } });
    const spoken = await finished(speechJob);
    assert.equal(spoken.state, "succeeded", JSON.stringify(spoken));
    assert.equal(spoken.pool, "voice");
    const result = (await (await fetch(`${fl.url}/v1/jobs/${speechJob}/result`)).json()) as { object: string; file_id: string; url: string; format: string; duration_s: number };
    assert.equal(result.object, "speech.result");
    assert.equal(result.format, "wav");
    const wav = Buffer.from(await (await fetch(`${fl.url}${result.url}`)).arrayBuffer());
    assert.ok(Math.abs(wavSeconds(wav) - result.duration_s) < 0.1, "the file is the audio the result describes");

    const upload = await client.files.create({ file: await toFile(wav, "count.wav"), purpose: "user_data" });
    const transcriptionJob = await submit({ kind: "transcription", input: { file_id: upload.id } });
    assert.equal((await finished(transcriptionJob)).state, "succeeded");
    const transcript = (await (await fetch(`${fl.url}/v1/jobs/${transcriptionJob}/result`)).json()) as { text: string; duration: number; words: unknown[] };
    assert.ok(transcript.duration > 1 && transcript.words.length > 0, JSON.stringify(transcript));

    const missing = await submit({ kind: "transcription", input: { file_id: "file-nope" } });
    const failed = await finished(missing);
    assert.equal(failed.state, "failed");
    assert.match(JSON.stringify(failed.error), /no file 'file-nope'/);
  });

  test("bad input is a 400 naming the field; a language model is not a speech engine", async () => {
    const url = `${fl.url}/v1/audio/speech`;
    const cases: Array<[unknown, string]> = [
      [{ model: "tts-1", voice: "alloy", input: "" }, "input"],
      [{ model: "tts-1", voice: "nobody", input: "hi" }, "voice"],
      [{ model: "tts-1", voice: "alloy", input: "hi", response_format: "aac" }, "response_format"],
      [{ model: "tts-1", voice: "alloy", input: "hi", speed: 9 }, "speed"],
      [{ model: "tts-1", voice: "alloy", input: "hi", instructions: "whisper" }, "instructions"],
    ];
    for (const [body, param] of cases) {
      const answer = await post(url, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error?.param, param, JSON.stringify(answer.body));
    }
    const notSpeech = await post(url, { model: TEST_MODEL_ID, voice: "alloy", input: "hi" });
    assert.equal(notSpeech.status, 400);
    assert.equal(notSpeech.body.error?.code, "model_not_capable");

    await assert.rejects(
      client.audio.transcriptions.create({ file: await toFile(Buffer.from("this is not audio"), "notes.wav"), model: "whisper-1" }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param?: string }).param === "file",
    );
    const noFile = await fetch(`${fl.url}/v1/audio/transcriptions`, { method: "POST", body: (() => {
      const form = new FormData();
      form.append("model", "whisper-1");
      return form;
    })() });
    assert.equal(noFile.status, 400);
    assert.equal(((await noFile.json()) as { error: { param: string } }).error.param, "file");
  });
});
