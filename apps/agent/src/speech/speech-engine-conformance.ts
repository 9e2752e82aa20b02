// The one conformance suite per kind of speech engine (issue 18): what a
// user of /v1/audio would check, run against the real engine with real
// audio. A new engine passes this before it replaces espeak-ng or
// pocketsphinx. Aborting is checked by watching the engine's child
// processes in /proc where there is one: aborted, each must be gone.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { FlotillaError, OPENAI_VOICES, type AudioFormat } from "@flotilla/protocol";
import { pcmToWav, wavDurationS } from "./audio-convert.ts";
import type { Synthesis, SynthesisRequest, SttEngine, Transcript, TtsEngine } from "./speech-engine.ts";

const run = promisify(execFile);

/** Near OpenAI's 4,096-character bound: long enough that no engine is done before the abort. */
const LONG_TEXT = "The quick brown fox jumps over the lazy dog while seven people watch from a distant hill. ".repeat(40);

export function ttsConformance(make: () => TtsEngine): void {
  describe("TtsEngine conformance", () => {
    const engine = make();
    const say = (text: string, request: Partial<SynthesisRequest> = {}, signal = new AbortController().signal): Promise<Synthesis> =>
      engine.synthesize({ text, voice: engine.voices[0] ?? "alloy", speed: 1, format: "wav", ...request }, signal);

    test("it takes every OpenAI voice, those names first", () => {
      assert.deepEqual(engine.voices.slice(0, OPENAI_VOICES.length).toSorted(), [...OPENAI_VOICES].sort());
    });

    for (const format of engine.formats) {
      test(`${format}: a non-empty file of that format`, async () => {
        const made = await say("Hello from the cluster.", { format });
        assert.equal(made.format, format);
        assert.ok(made.durationS > 0.5 && made.durationS < 5, `durationS ${made.durationS}`);
        assertIsFormat(made, format);
      });
    }

    test("every voice speaks", async () => {
      const made = await Promise.all(engine.voices.map((voice) => say("Hi.", { voice })));
      made.forEach((m, i) => assert.ok(m.durationS > 0, engine.voices[i]));
    });

    test("a longer text gives longer audio", async () => {
      const [short, long] = await Promise.all([say("One."), say("One, two, three, four, five, six, seven.")]);
      assert.ok(long.durationS > short.durationS * 2, `${long.durationS} s against ${short.durationS} s`);
      assert.ok(long.audio.length > short.audio.length);
    });

    test("speed 2 gives shorter audio than speed 1", async () => {
      const text = "The rain in Spain stays mainly in the plain.";
      const [normal, fast] = await Promise.all([say(text), say(text, { speed: 2 })]);
      assert.ok(fast.durationS < normal.durationS * 0.8, `${fast.durationS} s at speed 2 against ${normal.durationS} s`);
    });

    test("an unknown voice is an invalid_request naming voice", async () => {
      await assert.rejects(say("Hi.", { voice: "no-such-voice" }), isInvalid("voice"));
    });

    test("text that looks like options is spoken, not obeyed", async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "flotilla-tts-conformance-"));
      try {
        const target = path.join(dir, "x");
        const made = await say(`--help -w ${target} --stdout -v nosuch`);
        assert.equal(existsSync(target), false, "the text was taken as an option");
        assertIsFormat(made, "wav");
        assert.ok(made.durationS > 1, "the text was spoken");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("aborting rejects promptly and leaves no program running", async () => {
      await assertAborts((signal) => say(LONG_TEXT, { format: engine.formats[0] ?? "wav" }, signal));
    });

    test("an aborted signal rejects without speaking", async () => {
      await assert.rejects(say("Hi.", {}, AbortSignal.abort()), { name: "AbortError" });
    });
  });
}

/**
 * `speak` gives a phrase as a WAV file (a TTS engine, usually), so the
 * recogniser hears real speech.
 */
export function sttConformance(make: () => SttEngine, speak: (text: string) => Promise<Buffer>): void {
  describe("SttEngine conformance", () => {
    const engine = make();
    const transcribe = (audio: Buffer, language?: string, signal = new AbortController().signal): Promise<Transcript> =>
      engine.transcribe({ audio, ...(language === undefined ? {} : { language }) }, signal);
    // Counting: the words a small recogniser hears best from a robotic voice.
    const phrase = "one two three four five six seven eight nine ten";
    let spoken: Buffer = Buffer.alloc(0);
    let dir = "";
    before(async () => {
      [spoken, dir] = await Promise.all([speak(phrase), mkdtemp(path.join(tmpdir(), "flotilla-stt-conformance-"))]);
    });
    after(() => rm(dir, { recursive: true, force: true }));
    /** The spoken phrase converted by sox, as a client's recorder might have written it. */
    const converted = async (name: string, soxArgs: readonly string[]): Promise<Buffer> => {
      const [input, output] = [path.join(dir, `${name}.in.wav`), path.join(dir, name)];
      await writeFile(input, spoken);
      await run("sox", ["-V1", input, ...soxArgs, output]);
      return readFile(output);
    };

    // Each test waits on a program of its own: together they take about one's time.
    describe("what it hears", { concurrency: true }, () => {
      test("a spoken phrase comes back with some of its words, timed within the audio", async () => {
        const heard = await transcribe(spoken);
        const expected = new Set(phrase.split(" "));
        assert.ok(heard.words.some((w) => expected.has(w.word.toLowerCase())), `heard "${heard.text}"`);
        assert.equal(heard.language, "en");
        assert.ok(Math.abs(heard.durationS - wavDurationS(spoken)) < 0.05, `durationS ${heard.durationS}`);
        assertTimed(heard.words, heard.durationS);
        assertTimed(heard.segments, heard.durationS);
      });

      for (const [what, name, soxArgs] of [
        ["a 44.1 kHz stereo wav", "stereo.wav", ["-r", "44100", "-c", "2"]],
        ["a flac", "speech.flac", []],
      ] as const) {
        test(`${what} is accepted`, async () => {
          const heard = await transcribe(await converted(name, soxArgs));
          assert.ok(Math.abs(heard.durationS - wavDurationS(spoken)) < 0.05, `durationS ${heard.durationS}`);
          assert.notEqual(heard.text, "");
        });
      }

      test("a file that is not audio is an invalid_request naming file", async () => {
        const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
        const fakeWav = Buffer.from("RIFF\x10\x00\x00\x00WAVEnot a chunk at all", "latin1");
        for (const file of [Buffer.from("hello"), png, fakeWav, Buffer.alloc(0)]) {
          await assert.rejects(transcribe(file), isInvalid("file"), JSON.stringify(file.toString("latin1")));
        }
      });

      test("silence, and a recording with no samples, give an empty text", async () => {
        const seconds = [1, 0];
        const heard = await Promise.all(seconds.map((s) => transcribe(pcmToWav(Buffer.alloc(16_000 * 2 * s), 16_000))));
        assert.deepEqual(
          heard.map((h) => ({ text: h.text, words: h.words, durationS: h.durationS })),
          seconds.map((durationS) => ({ text: "", words: [], durationS })),
        );
      });

      test("an unsupported language is refused naming language", async () => {
        await assert.rejects(transcribe(spoken, "xx"), isInvalid("language"));
      });
    });

    // Alone, so that the only programs this process runs are the ones aborted.
    describe("aborting", () => {
      test("aborting rejects promptly and leaves no program running", async () => {
        const long = await speak(LONG_TEXT.slice(0, 1_000));
        await assertAborts((signal) => transcribe(long, undefined, signal));
      });
    });
  });
}

function isInvalid(param: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof FlotillaError, `expected a FlotillaError, got ${String(err)}`);
    assert.equal(err.code, "invalid_request");
    assert.equal(err.param, param);
    return true;
  };
}

/** Start and end times that lie within the audio and never go back. */
function assertTimed(spans: readonly { startS: number; endS: number }[], durationS: number): void {
  let previousEnd = 0;
  for (const span of spans) {
    assert.ok(span.startS >= previousEnd && span.endS >= span.startS && span.endS <= durationS, JSON.stringify(span));
    previousEnd = span.endS;
  }
}

/** The file's first bytes are those its format begins with. */
function assertIsFormat(made: Synthesis, format: AudioFormat): void {
  const { audio } = made;
  assert.ok(audio.length > 0, "empty audio");
  const head = audio.toString("latin1", 0, 4);
  switch (format) {
    case "wav":
      assert.equal(head + audio.toString("latin1", 8, 12), "RIFFWAVE");
      return;
    case "flac":
      assert.equal(head, "fLaC");
      return;
    case "mp3":
      assert.ok(head.startsWith("ID3") || (audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0), "no ID3 tag or MPEG frame sync");
      return;
    case "opus":
      assert.equal(head, "OggS");
      assert.ok(audio.subarray(0, 64).includes("OpusHead"), "an Ogg file, but not Opus");
      return;
    case "aac": // ADTS: 12 sync bits, layer 0
      assert.ok(audio[0] === 0xff && ((audio[1] ?? 0) & 0xf6) === 0xf0, "no ADTS header");
      return;
    case "pcm": // raw 16-bit mono: the length is the duration
      assert.equal(audio.length % 2, 0);
      assert.ok(Math.abs(audio.length / 2 / made.sampleRate - made.durationS) < 0.05, `${audio.length} bytes for ${made.durationS} s`);
      return;
  }
}

/**
 * Starts `work`, aborts it once one of its programs runs (where /proc shows
 * them; else at once), and checks that it rejects within half a second and
 * that every program it started is gone.
 */
async function assertAborts(work: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const controller = new AbortController();
  const before = new Set(childPids());
  let settled = false;
  const running = work(controller.signal).finally(() => (settled = true));
  let seen: number[] = [];
  while (existsSync("/proc") && !settled && seen.length === 0) {
    await new Promise((resolve) => setImmediate(resolve));
    seen = childPids().filter((pid) => !before.has(pid));
  }
  assert.ok(!settled, "the work was done before any program was seen running");
  const abortedAt = performance.now();
  controller.abort();
  await assert.rejects(running, { name: "AbortError" });
  const tookMs = performance.now() - abortedAt;
  assert.ok(tookMs < 500, `rejected ${Math.round(tookMs)} ms after the abort`);
  assert.deepEqual(seen.filter((pid) => existsSync(`/proc/${pid}`)), [], "a program outlived the abort");
  assert.deepEqual(childPids().filter((pid) => !before.has(pid)), [], "a program was left running");
}

/** The pids whose parent is this process, from /proc (empty where there is none). */
function childPids(): number[] {
  if (!existsSync("/proc")) return [];
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // it ended while we looked
    }
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so count from the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === process.pid) pids.push(Number(name));
  }
  return pids;
}
