// Issue 18, "Measured" (the stages that exist so far): the built-in speech
// engines through a real `flotilla up --speech`, over a script of 20 short
// turns. Each turn is spoken by espeak-ng through POST /v1/audio/speech (wav)
// and that audio transcribed by pocketsphinx through POST
// /v1/audio/transcriptions, one request at a time, from the official openai
// client. Rows: the time of each call (p50, p95), pocketsphinx's real-time
// factor (transcription time ÷ audio length), and the word error rate of the
// transcripts against the script, printed so a better engine can be compared.
// No goals here: the end-to-end goals of issue 18 are for voice sessions.
import OpenAI, { toFile } from "openai";
import { startFlotilla } from "@flotilla/testkit";
import type { BenchResult, Mode } from "./report.ts";
import { ms, quantile } from "./stats.ts";

const SUITE = "speech";
const SCRIPT = [
  "what time is it",
  "turn on the kitchen lights",
  "set a timer for ten minutes",
  "what is the weather like today",
  "play some music",
  "how are you",
  "tell me a story",
  "what is two plus two",
  "remind me to call mom",
  "open the garage door",
  "one two three four five",
  "good morning",
  "stop",
  "what day is it tomorrow",
  "turn the volume down",
  "read me the news",
  "how far is the moon",
  "thank you very much",
  "lock the front door",
  "good night",
];
const TURNS: Record<Mode, number> = { smoke: 2, quick: 20, full: 60 };

export async function speech(mode: Mode): Promise<BenchResult[]> {
  const fl = await startFlotilla({ args: ["--speech"] });
  const tts: number[] = [];
  const stt: number[] = [];
  const rtf: number[] = [];
  let errors = 0;
  let words = 0;
  try {
    const client = new OpenAI({ apiKey: fl.adminKey, baseURL: `${fl.url}/v1`, maxRetries: 0 });
    for (let turn = 0; turn < TURNS[mode]; turn++) {
      const text = SCRIPT[turn % SCRIPT.length] ?? "";
      let t0 = performance.now();
      const wav = Buffer.from(await (await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: text, response_format: "wav" })).arrayBuffer());
      tts.push(performance.now() - t0);
      t0 = performance.now();
      const heard = await client.audio.transcriptions.create({ file: await toFile(wav, "turn.wav"), model: "whisper-1", response_format: "verbose_json" });
      const took = performance.now() - t0;
      stt.push(took);
      rtf.push(took / 1000 / heard.duration);
      const expected = text.split(" ");
      errors += wordErrors(expected, heard.text.split(/\s+/).filter((w) => w !== ""));
      words += expected.length;
    }
  } finally {
    await fl.stop();
  }
  const row = (name: string, value: string): BenchResult => ({ suite: SUITE, name, value, range: "", goal: "", met: null });
  const pair = (values: number[]) => `${ms(quantile(values, 0.5))} / ${ms(quantile(values, 0.95))}`;
  return [
    row(`espeak-ng: POST /v1/audio/speech (wav) of a short turn, p50 / p95 over ${tts.length} turns`, pair(tts)),
    row("pocketsphinx: POST /v1/audio/transcriptions of that audio, p50 / p95", pair(stt)),
    row("pocketsphinx real-time factor (transcription time ÷ audio length), p50", `${quantile(rtf, 0.5).toFixed(2)}×`),
    row(`word error rate of pocketsphinx on espeak-ng's voice, ${words} words`, words === 0 ? "n/a" : `${((errors / words) * 100).toFixed(0)}%`),
  ];
}

/** Word-level edit distance (substitutions, insertions, deletions): the numerator of the WER. */
export function wordErrors(expected: readonly string[], heard: readonly string[]): number {
  let previous = Array.from({ length: heard.length + 1 }, (_, j) => j);
  for (let i = 1; i <= expected.length; i++) {
    const row = [i];
    for (let j = 1; j <= heard.length; j++) {
      const same = expected[i - 1] === heard[j - 1] ? 0 : 1;
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + same));
    }
    previous = row;
  }
  return previous[heard.length] ?? 0;
}
