// The converter's own edges, on real files made by sox and opusenc: every
// format it writes and reads, uploads that only pretend to be audio, WAV
// headers that lie, a missing program, and temp dirs left behind.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { FlotillaError } from "@flotilla/protocol";
import { decodeToPcm16k, encode, pcmToWav, sniffAudio, wavDurationS } from "./audio-convert.ts";

const run = promisify(execFile);
const signal = new AbortController().signal;
let dir = "";
/** A second of a 440 Hz tone, stereo at 44.1 kHz: not what anything here writes. */
let tone = Buffer.alloc(0);

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "flotilla-audio-convert-test-"));
  await run("sox", ["-V1", "-n", "-r", "44100", "-c", "2", "-b", "16", path.join(dir, "tone.wav"), "synth", "1", "sine", "440"]);
  tone = await readFile(path.join(dir, "tone.wav"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The tone as another program writes `name` (its extension says the format). */
async function toneAs(name: string): Promise<Buffer> {
  const file = path.join(dir, name);
  if (name.endsWith(".opus")) await run("opusenc", ["--quiet", path.join(dir, "tone.wav"), file]);
  else await run("sox", ["-V1", path.join(dir, "tone.wav"), file]);
  return readFile(file);
}

const invalidFile = { name: "FlotillaError", code: "invalid_request", param: "file" };

test("wav and pcm are written at 24 kHz mono 16-bit, keeping the duration", async () => {
  const wav = await encode(tone, "wav", signal);
  assert.deepEqual([wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)], [1, 24_000, 16]);
  assert.ok(Math.abs(wavDurationS(wav) - 1) < 0.01);
  const pcm = await encode(tone, "pcm", signal);
  assert.ok(Math.abs(pcm.length - 48_000) <= 4, `${pcm.length} bytes`);
});

test("mp3, flac and opus are files of their own format", async () => {
  const [mp3, flac, opus] = await Promise.all((["mp3", "flac", "opus"] as const).map((f) => encode(tone, f, signal)));
  assert.deepEqual([mp3, flac, opus].map((b) => sniffAudio(b ?? Buffer.alloc(0))), ["mp3", "flac", "opus"]);
});

test("aac is refused naming response_format and the formats there are", async () => {
  await assert.rejects(encode(tone, "aac", signal), (err: unknown) => {
    assert.ok(err instanceof FlotillaError && err.param === "response_format");
    assert.match(err.message, /mp3, opus, flac, wav, pcm/);
    return true;
  });
});

for (const name of ["upload.wav", "upload.flac", "upload.mp3", "upload.ogg", "upload.opus"]) {
  test(`${name} is read as 16 kHz mono 16-bit wav`, async () => {
    const wav = await decodeToPcm16k(name === "upload.wav" ? tone : await toneAs(name), signal);
    assert.deepEqual([wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)], [1, 16_000, 16]);
    // mp3 and opus pad a little at the ends
    assert.ok(Math.abs(wavDurationS(wav) - 1) < 0.1, `${wavDurationS(wav)} s`);
  });
}

test("an mp3 with an ID3 tag is mp3; AAC's frame header is not", () => {
  assert.equal(sniffAudio(Buffer.from("ID3\x04\x00", "latin1")), "mp3");
  assert.equal(sniffAudio(Buffer.from([0xff, 0xf1, 0x50, 0x80])), undefined);
});

test("files that only begin like audio are invalid_request naming file, without our temp paths", async () => {
  const pretenders = ["RIFF\x24\x00\x00\x00WAVEjunk", "fLaCjunkjunkjunk", "ID3junkjunkjunk", "OggSjunkjunkjunk", "OggS OpusHead junk"];
  for (const text of pretenders) {
    await assert.rejects(decodeToPcm16k(Buffer.from(text, "latin1"), signal), (err: unknown) => {
      assert.ok(err instanceof FlotillaError && err.param === "file", `${String(err)} for ${JSON.stringify(text)}`);
      assert.doesNotMatch(err.message, /flotilla-speech-/);
      return true;
    });
  }
  await assert.rejects(decodeToPcm16k(Buffer.from("hello"), signal), invalidFile);
});

test("a header that makes a few KB hours long (a 1 Hz rate) is refused naming file, before anything is decoded", async () => {
  const data = Buffer.alloc(10_000, 0x80);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(1, 24); // 1 sample a second
  header.writeUInt32LE(1, 28);
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(data.length, 40);
  await assert.rejects(decodeToPcm16k(Buffer.concat([header, data]), new AbortController().signal), (err: unknown) => {
    assert.ok(err instanceof FlotillaError);
    assert.equal(err.param, "file");
    assert.match(err.message, /at most 20 minutes/);
    return true;
  });
});

test("a WAV's duration counts the samples there, past chunks before them", () => {
  const wav = pcmToWav(Buffer.alloc(32_000), 16_000);
  assert.equal(wavDurationS(wav), 1);
  // A streamed header declares the largest size; a LIST chunk of odd length is padded.
  const streamed = Buffer.from(wav);
  streamed.writeUInt32LE(0xffffffff, 40);
  assert.equal(wavDurationS(streamed), 1);
  const list = Buffer.from("LIST\x03\x00\x00\x00abc\x00", "latin1");
  assert.equal(wavDurationS(Buffer.concat([wav.subarray(0, 36), list, wav.subarray(36)])), 1);
  assert.throws(() => wavDurationS(Buffer.from("hello")), /not a WAV/);
});

test("a missing sox is an Error naming its Debian package", async () => {
  const saved = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    await assert.rejects(encode(tone, "wav", signal), /sox is not installed: install the Debian package sox/);
  } finally {
    process.env.PATH = saved;
  }
});

test("temp dirs are removed after success, failure and abort", async () => {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir; // os.tmpdir() reads it on each call
  try {
    await encode(tone, "opus", signal);
    await assert.rejects(decodeToPcm16k(Buffer.from("fLaCjunk", "latin1"), signal), invalidFile);
    const controller = new AbortController();
    const encoding = encode(tone, "mp3", controller.signal);
    controller.abort();
    await assert.rejects(encoding, { name: "AbortError" });
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith("flotilla-speech-")), []);
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
});
