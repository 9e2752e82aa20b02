// Text to speech with espeak-ng: small, fast, on every Debian, and robotic.
// The text goes in on stdin (`--stdin`), never as an argument, so text
// that looks like options ("--help -w /etc/x") is spoken, not obeyed.
// OpenAI's voice names map to espeak's English voices and variants, so a
// client written for OpenAI works unchanged.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { FlotillaError, type OPENAI_VOICES } from "@flotilla/protocol";
import { assertEncodable, ENCODABLE_FORMATS, encode, OUTPUT_SAMPLE_RATE, pcmToWav, wavDurationS } from "./audio-convert.ts";
import { check, runProgram, withTempDir, type Program } from "./run-program.ts";
import type { Synthesis, SynthesisRequest, TtsEngine } from "./speech-engine.ts";

const ESPEAK: Program = { file: "espeak-ng", debianPackage: "espeak-ng" };

/** Each voice a client may name, and the espeak-ng voice (+variant) it speaks with. */
export const ESPEAK_VOICES: ReadonlyMap<string, string> = new Map<string, string>([
  ["alloy", "en-us"],
  ["ash", "en-us+m4"],
  ["ballad", "en-gb+m2"],
  ["coral", "en-us+f2"],
  ["echo", "en-us+m3"],
  ["fable", "en-gb-x-rp"],
  ["nova", "en-us+f3"],
  ["onyx", "en-us+m7"],
  ["sage", "en-gb+f1"],
  ["shimmer", "en-us+f4"],
  ["verse", "en-us+m2"],
  // espeak's own names, for a client that knows it is talking to espeak.
  ["en", "en"],
  ["en-us", "en-us"],
  ["en-gb", "en-gb"],
] satisfies [(typeof OPENAI_VOICES)[number] | "en" | "en-us" | "en-gb", string][]);

/** espeak's normal rate (speed 1), and the range of rates it speaks at. */
const WORDS_PER_MINUTE = 175;
const MIN_WPM = 80;
const MAX_WPM = 450;

/** The sample rate espeak-ng writes, used for the empty file of a text with nothing to say. */
const ESPEAK_SAMPLE_RATE = 22_050;

export class EspeakNgEngine implements TtsEngine {
  readonly id = "espeak-ng";
  readonly voices: readonly string[] = [...ESPEAK_VOICES.keys()];
  readonly formats = ENCODABLE_FORMATS;

  async synthesize(request: SynthesisRequest, signal: AbortSignal): Promise<Synthesis> {
    const voice = ESPEAK_VOICES.get(request.voice);
    if (voice === undefined) {
      throw new FlotillaError("invalid_request", `voice "${request.voice}" is not one of ${this.id}'s: ${this.voices.join(", ")}`, { param: "voice" });
    }
    assertEncodable(request.format); // before speaking, not after
    const wav = await speak(request.text, voice, wordsPerMinute(request.speed), signal);
    const audio = await encode(wav, request.format, signal);
    return { audio, format: request.format, sampleRate: OUTPUT_SAMPLE_RATE, durationS: wavDurationS(wav) };
  }
}

/** `speed` (1: normal) as espeak's words a minute, within what espeak speaks at. */
export function wordsPerMinute(speed: number): number {
  if (!Number.isFinite(speed) || speed <= 0) throw new FlotillaError("invalid_request", "speed must be a positive number", { param: "speed" });
  return Math.min(MAX_WPM, Math.max(MIN_WPM, Math.round(WORDS_PER_MINUTE * speed)));
}

async function speak(text: string, voice: string, wpm: number, signal: AbortSignal): Promise<Buffer> {
  return await withTempDir(async (dir) => {
    const output = path.join(dir, "speech.wav");
    // -b 1: the text is UTF-8, whatever the locale says.
    const args = ["--stdin", "-b", "1", "-v", voice, "-s", String(wpm), "-w", output];
    check(ESPEAK, await runProgram(ESPEAK, args, { signal, stdin: Buffer.from(text, "utf8") }));
    // A text with nothing to say (blank, punctuation) makes espeak write no file at all.
    return await readFile(output).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return pcmToWav(Buffer.alloc(0), ESPEAK_SAMPLE_RATE);
      throw err;
    });
  });
}
