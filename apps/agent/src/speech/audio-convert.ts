// The one place audio changes format, by running sox (and opusenc/opusdec,
// as sox reads and writes no opus). Speech is written at 24 kHz mono, the
// rate OpenAI sends every format at, so `pcm` and the rest agree; uploads
// are read into the 16 kHz mono 16-bit WAV that speech recognisers take.
// An upload is told apart by its first bytes, not its name or content type,
// and one sox cannot read is the client's mistake (invalid_request, `file`).
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { FlotillaError, PCM_SAMPLE_RATE, type AudioFormat } from "@flotilla/protocol";
import { check, OPUSDEC, OPUSENC, runProgram, SOX, withTempDir } from "./run-program.ts";

/** What encode() writes: every format but aac, which no installed program encodes. */
export const ENCODABLE_FORMATS = ["mp3", "opus", "flac", "wav", "pcm"] as const satisfies readonly AudioFormat[];

/** The sample rate of every file encode() writes. */
export const OUTPUT_SAMPLE_RATE = PCM_SAMPLE_RATE;

/** The sample rate decodeToPcm16k() writes. */
export const RECOGNITION_SAMPLE_RATE = 16_000;

/** Throws invalid_request (`response_format`) for a format encode() cannot write. */
export function assertEncodable(format: AudioFormat): void {
  if ((ENCODABLE_FORMATS as readonly AudioFormat[]).includes(format)) return;
  throw new FlotillaError("invalid_request", `response_format "${format}" is not supported here: use one of ${ENCODABLE_FORMATS.join(", ")}`, {
    param: "response_format",
  });
}

/** `wav` (any WAV sox reads) as a whole file in `format`, at OUTPUT_SAMPLE_RATE, mono. */
export async function encode(wav: Buffer, format: AudioFormat, signal: AbortSignal): Promise<Buffer> {
  assertEncodable(format);
  return await withTempDir(async (dir) => {
    const input = path.join(dir, "in.wav");
    await writeFile(input, wav);
    const to24kMono = ["-r", String(OUTPUT_SAMPLE_RATE), "-c", "1"];
    const pcm16 = [...to24kMono, "-b", "16", "-e", "signed-integer"];
    if (format === "opus") {
      const pcm = path.join(dir, "pcm.wav");
      await sox([input, ...pcm16, pcm], signal);
      const output = path.join(dir, "out.opus");
      check(OPUSENC, await runProgram(OPUSENC, ["--quiet", pcm, output], { signal }));
      return readFile(output);
    }
    const output = path.join(dir, `out.${format === "pcm" ? "raw" : format}`);
    // pcm: raw samples, little-endian (-L) whatever this machine's byte order.
    const outArgs = format === "pcm" ? [...pcm16, "-L", "-t", "raw"] : format === "wav" ? pcm16 : to24kMono;
    await sox([input, ...outArgs, output], signal);
    return readFile(output);
  });
}

type UploadType = "wav" | "flac" | "mp3" | "vorbis" | "opus";

/** The type an upload's first bytes say it is; undefined: none this node reads. */
export function sniffAudio(file: Buffer): UploadType | undefined {
  const ascii = (from: number, to: number): string => file.toString("latin1", from, to);
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WAVE") return "wav";
  if (ascii(0, 4) === "fLaC") return "flac";
  if (ascii(0, 3) === "ID3" || isMpegFrameSync(file)) return "mp3";
  // The first Ogg page holds the codec's identification header.
  if (ascii(0, 4) === "OggS") return file.subarray(0, 64).includes("OpusHead") ? "opus" : "vorbis";
  return undefined;
}

/** An MPEG audio frame header: 11 sync bits, a defined version and layer (not ADTS AAC's layer 0). */
function isMpegFrameSync(file: Buffer): boolean {
  const [a, b] = [file[0] ?? 0, file[1] ?? 0];
  return a === 0xff && (b & 0xe0) === 0xe0 && ((b >> 3) & 3) !== 1 && ((b >> 1) & 3) !== 0;
}

/** An uploaded wav, flac, mp3 or ogg file as a 16 kHz mono 16-bit WAV. */
/** The longest recording one transcription takes (a 10 MiB upload of 16 kHz wav is about 5 minutes). */
export const MAX_RECOGNITION_S = 20 * 60;

export async function decodeToPcm16k(file: Buffer, signal: AbortSignal): Promise<Buffer> {
  const rate16k = String(RECOGNITION_SAMPLE_RATE);
  const type = sniffAudio(file);
  if (type === undefined) throw unreadable("the file is not audio this server reads: send wav, flac, mp3 or ogg (vorbis or opus)");
  return await withTempDir(async (dir) => {
    // Named by sox's own extension for the type, so `sox --i` knows it.
    let input = path.join(dir, `in.${type === "vorbis" ? "ogg" : type}`);
    await writeFile(input, file);
    if (type === "opus") {
      const decoded = path.join(dir, "decoded.wav");
      // At 16 kHz: the longest opus file of the upload limit decodes to a few hundred MB, not more.
      const result = await runProgram(OPUSDEC, ["--quiet", "--rate", rate16k, input, decoded], { signal });
      if (result.code !== 0) throw unreadable("the file could not be read as ogg opus audio", result.stderr);
      input = decoded;
    }
    const soxType = type === "opus" ? "wav" : type === "vorbis" ? "ogg" : type;
    // A header may declare a rate of 1 Hz: a few KB would resample to gigabytes. Its length is read first.
    const info = await runProgram(SOX, ["--i", "-D", input], { signal });
    const seconds = Number(info.stdout.trim());
    if (info.code !== 0) throw unreadable(`the file could not be read as ${type} audio`, info.stderr);
    if (!Number.isFinite(seconds) || seconds > MAX_RECOGNITION_S) {
      throw new FlotillaError("invalid_request", `file: at most ${MAX_RECOGNITION_S / 60} minutes of audio a request`, { param: "file" });
    }
    const output = path.join(dir, "out.wav");
    // trim: a backstop for a length the header got wrong.
    const args = ["-V1", "-D", "-t", soxType, input, "-r", rate16k, "-c", "1", "-b", "16", "-e", "signed-integer", output, "trim", "0", String(MAX_RECOGNITION_S)];
    const result = await runProgram(SOX, args, { signal });
    if (result.code !== 0) throw unreadable(`the file could not be read as ${type} audio`, result.stderr);
    return readFile(output);
  });
}

/** sox's message stays out of the client's: it names our temp paths. */
function unreadable(message: string, stderr?: string): FlotillaError {
  const cause = stderr === undefined ? undefined : new Error(stderr.trim());
  return new FlotillaError("invalid_request", message, { param: "file", cause });
}

/** sox without dither (output stays deterministic, silence stays silent) and without warnings. */
async function sox(args: readonly string[], signal: AbortSignal): Promise<void> {
  check(SOX, await runProgram(SOX, ["-V1", "-D", ...args], { signal }));
}

/** A WAV file's length in seconds, from its `fmt ` and `data` chunks. */
export function wavDurationS(wav: Buffer): number {
  if (wav.toString("latin1", 0, 4) !== "RIFF" || wav.toString("latin1", 8, 12) !== "WAVE") throw new Error("not a WAV file");
  let bytesPerSecond: number | undefined;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString("latin1", at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === "fmt " && at + 20 <= wav.length) bytesPerSecond = wav.readUInt32LE(at + 8 + 8);
    if (id === "data") {
      if (!bytesPerSecond) throw new Error("a WAV file without a format chunk before its data");
      // A streamed WAV declares a size it could not know: what is there counts.
      return Math.min(size, wav.length - at - 8) / bytesPerSecond;
    }
    at += 8 + size + (size % 2); // chunks are padded to an even length
  }
  throw new Error("a WAV file without a data chunk");
}

/** Raw 16-bit little-endian mono samples as a WAV file. */
export function pcmToWav(pcm: Buffer, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // bytes per second
  header.writeUInt16LE(2, 32); // bytes per sample frame
  header.writeUInt16LE(16, 34); // bits per sample
  header.write("data", 36, "latin1");
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
