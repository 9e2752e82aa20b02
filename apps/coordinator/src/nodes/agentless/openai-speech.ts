// Speech on an OpenAI-compatible server (Kokoro-FastAPI, speaches, LocalAI,
// another flotilla): its POST /v1/audio/speech and /v1/audio/transcriptions,
// for the models the cluster file declares under `speech` (docs/adr/0039).
// The audio comes back whole; the transcript is asked as verbose_json with
// word and segment times and read into the one result shape.
import { FormData } from "undici";
import { z } from "zod";
import {
  FlotillaError,
  LANGUAGE_NAMES,
  PCM_SAMPLE_RATE,
  type SpeechRequest,
  type SpeechResult,
  type TranscriptionRequest,
  type TranscriptionResult,
} from "@flotilla/protocol";
import { firstIssue, parseJson } from "./dialect.ts";
import { openaiUrl } from "./openai-dialect.ts";
import { readWhole, send, type NodeEndpoint } from "./node-http.ts";

/** The most audio one answer may carry: ten minutes of 24 kHz pcm is 29 MB. */
const MAX_AUDIO_BYTES = 64 * 1024 * 1024;
const MAX_TRANSCRIPT_BYTES = 8 * 1024 * 1024;

export async function speakOn(endpoint: NodeEndpoint, base: string, request: SpeechRequest, signal: AbortSignal): Promise<SpeechResult> {
  const { text, voice, format, speed } = request.input;
  const body = { model: request.model, input: text, voice, response_format: format, speed };
  const answer = await send(endpoint, "POST", openaiUrl(base, "audio/speech"), body, signal, true);
  const audio = await readWhole(endpoint, answer, MAX_AUDIO_BYTES + 1, signal);
  if (audio.length > MAX_AUDIO_BYTES) throw new FlotillaError("backend_error", `node ${endpoint.name} sent more than ${MAX_AUDIO_BYTES} bytes of audio`);
  if (audio.length === 0) throw new FlotillaError("backend_error", `node ${endpoint.name} sent no audio`);
  return { format, audioBase64: audio.toString("base64"), sampleRate: format === "pcm" ? PCM_SAMPLE_RATE : 0, durationS: durationOf(audio, format) };
}

const verboseTranscript = z.object({
  text: z.string().max(1_048_576),
  language: z.string().max(32).optional(),
  duration: z.number().min(0).max(86_400).optional(),
  segments: z.array(z.object({ start: z.number().min(0), end: z.number().min(0), text: z.string().max(65_536) })).max(100_000).optional(),
  words: z.array(z.object({ word: z.string().max(256), start: z.number().min(0), end: z.number().min(0) })).max(1_000_000).optional(),
});

export async function transcribeOn(endpoint: NodeEndpoint, base: string, request: TranscriptionRequest, signal: AbortSignal): Promise<TranscriptionResult> {
  const form = new FormData();
  const audio = Buffer.from(request.input.audioBase64, "base64");
  // Servers (OpenAI's among them) pick the decoder by the file's extension.
  form.append("file", new Blob([audio]), `audio.${extensionOf(audio)}`);
  form.append("model", request.model);
  form.append("response_format", "verbose_json");
  form.append("timestamp_granularities[]", "segment");
  form.append("timestamp_granularities[]", "word");
  if (request.input.language !== undefined) form.append("language", request.input.language);
  const answer = await send(endpoint, "POST", openaiUrl(base, "audio/transcriptions"), form, signal, true);
  const json = parseJson((await readWhole(endpoint, answer, MAX_TRANSCRIPT_BYTES, signal)).toString("utf8"));
  const parsed = json.ok ? verboseTranscript.safeParse(json.value) : undefined;
  if (parsed === undefined || !parsed.success) {
    throw new FlotillaError("backend_error", `node ${endpoint.name} sent a transcript that is not verbose_json: ${parsed === undefined ? "not JSON" : firstIssue(parsed.error.issues)}`);
  }
  const transcript = parsed.data;
  const segments = transcript.segments?.map((s) => ({ startS: s.start, endS: s.end, text: s.text })) ?? [];
  return {
    text: transcript.text,
    language: languageCode(transcript.language) ?? request.input.language ?? "",
    durationS: transcript.duration ?? segments.at(-1)?.endS ?? 0,
    segments,
    words: transcript.words?.map((w) => ({ startS: w.start, endS: w.end, word: w.word })) ?? [],
  };
}

/** The extension for an upload, from its first bytes; wav when nothing matches. */
function extensionOf(audio: Buffer): string {
  const head = audio.subarray(0, 4).toString("latin1");
  if (head === "fLaC") return "flac";
  if (head === "OggS") return "ogg";
  if (head.startsWith("ID3") || (audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0)) return "mp3";
  return "wav";
}

/** verbose_json's "english" (or a code) as the ISO-639-1 code. */
function languageCode(said: string | undefined): string | undefined {
  if (said === undefined) return undefined;
  const lower = said.toLowerCase();
  return Object.entries(LANGUAGE_NAMES).find(([, name]) => name === lower)?.[0] ?? (/^[a-z]{2}$/.test(lower) ? lower : undefined);
}

/** Seconds of audio where the format says it plainly (a PCM wav's header, raw pcm); 0 where it does not. */
function durationOf(audio: Buffer, format: SpeechRequest["input"]["format"]): number {
  if (format === "pcm") return audio.length / 2 / PCM_SAMPLE_RATE;
  if (format === "wav" && audio.length >= 44 && audio.subarray(0, 4).toString("latin1") === "RIFF") {
    const byteRate = audio.readUInt32LE(28);
    return byteRate > 0 ? (audio.length - 44) / byteRate : 0;
  }
  return 0;
}
