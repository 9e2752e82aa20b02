// Speech to text with pocketsphinx (CMU Sphinx): small, CPU-only, on every
// Debian, and inaccurate; it is here so that a node without a GPU still
// transcribes, and a better engine replaces it behind SttEngine. The upload
// is decoded to 16 kHz mono first (the model's rate), then
// pocketsphinx_continuous prints, per utterance it finds between pauses, a
// hypothesis line and then one line a word: `word start end probability`.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { FlotillaError } from "@flotilla/protocol";
import { decodeToPcm16k, wavDurationS } from "./audio-convert.ts";
import { check, runProgram, withTempDir, type Program } from "./run-program.ts";
import type { SttEngine, Transcript, TranscriptionRequest, TranscriptSegment, TranscriptWord } from "./speech-engine.ts";

const POCKETSPHINX: Program = { file: "pocketsphinx_continuous", debianPackage: "pocketsphinx (with pocketsphinx-en-us)" };

/** Where Debian's pocketsphinx-en-us puts its model. */
export const DEBIAN_EN_US_MODEL = "/usr/share/pocketsphinx/model/en-us";

export interface PocketsphinxOptions {
  /** A directory holding `en-us/` (the acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
}

export class PocketsphinxEngine implements SttEngine {
  readonly id = "pocketsphinx-en-us";
  readonly languages: readonly string[] = ["en"];
  readonly #modelArgs: readonly string[];

  constructor(options: PocketsphinxOptions = {}) {
    const dir = options.modelDir ?? DEBIAN_EN_US_MODEL;
    this.#modelArgs = ["-hmm", path.join(dir, "en-us"), "-lm", path.join(dir, "en-us.lm.bin"), "-dict", path.join(dir, "cmudict-en-us.dict")];
  }

  async transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<Transcript> {
    const language = request.language?.toLowerCase() ?? "en";
    if (!this.languages.includes(language)) {
      throw new FlotillaError("invalid_request", `language "${request.language}" is not one ${this.id} transcribes: ${this.languages.join(", ")}`, { param: "language" });
    }
    const wav = await decodeToPcm16k(request.audio, signal);
    const durationS = wavDurationS(wav);
    if (durationS === 0) return { text: "", language, durationS, segments: [], words: [] }; // nothing to hear
    const printed = await withTempDir(async (dir) => {
      const input = path.join(dir, "speech.wav");
      await writeFile(input, wav);
      // -logfn /dev/null: its log goes nowhere, leaving stdout to the hypotheses.
      const result = await runProgram(POCKETSPHINX, ["-infile", input, ...this.#modelArgs, "-time", "yes", "-logfn", "/dev/null"], { signal });
      check(POCKETSPHINX, result);
      return result.stdout;
    });
    const { segments, words } = parsePocketsphinx(printed, durationS);
    return { text: segments.map((s) => s.text).join(" "), language, durationS, segments, words };
  }
}

const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) \S+$/;
/** Not words: sentence marks and silence (<s>, </s>, <sil>), noise fillers ([NOISE], ++UH++). */
const FILLER = /^(<.*>|\[.*\]|\+\+.*\+\+)$/;

/**
 * pocketsphinx's `-time yes` output as segments (one per utterance that has
 * words) and words, times clamped to the audio's duration. A word's
 * alternate pronunciation ("the(2)") is the same word.
 */
export function parsePocketsphinx(printed: string, durationS: number): { segments: TranscriptSegment[]; words: TranscriptWord[] } {
  const segments: TranscriptSegment[] = [];
  const words: TranscriptWord[] = [];
  let utterance: TranscriptWord[] = [];
  const close = (): void => {
    const first = utterance[0];
    const last = utterance.at(-1);
    if (first && last) segments.push({ startS: first.startS, endS: last.endS, text: utterance.map((w) => w.word).join(" ") });
    utterance = [];
  };
  for (const line of printed.split("\n")) {
    const match = WORD_LINE.exec(line.trim());
    if (!match) {
      close(); // a hypothesis line: the next utterance starts
      continue;
    }
    const [, token = "", start = "0", end = "0"] = match;
    if (FILLER.test(token)) continue;
    const clamp = (s: number): number => Math.min(Math.max(0, s), durationS);
    const word = { startS: clamp(Number(start)), endS: clamp(Number(end)), word: token.replace(/\(\d+\)$/, "") };
    utterance.push(word);
    words.push(word);
  }
  close();
  return { segments, words };
}
