// OpenAI's audio API bodies (issue 18): POST /v1/audio/speech (JSON) and
// POST /v1/audio/transcriptions (multipart fields). Strict: a field this
// server would ignore is a 400 naming it, not silently dropped.
import { z } from "zod";
import { AUDIO_FORMATS } from "./audio.ts";
import { MAX_SPEECH_CHARS } from "./workload.ts";

export const speechCreateRequest = z.strictObject({
  model: z.string().min(1).max(256),
  input: z.string().min(1, "input: there is nothing to say").max(MAX_SPEECH_CHARS),
  voice: z.string().min(1).max(64),
  /** OpenAI's default is mp3. */
  response_format: z.enum(AUDIO_FORMATS).default("mp3"),
  speed: z.number().min(0.25).max(4).default(1),
  /** `audio`: the file; `sse`: server-sent `speech.audio.delta` events, then `speech.audio.done`. */
  stream_format: z.enum(["audio", "sse"]).default("audio"),
});
export type SpeechCreateRequest = z.infer<typeof speechCreateRequest>;

export const TRANSCRIPTION_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"] as const;
export type TranscriptionFormat = (typeof TRANSCRIPTION_FORMATS)[number];

/** The text fields of a transcription upload; `file` is the part beside them. */
export const transcriptionFields = z.strictObject({
  model: z.string().min(1).max(256),
  language: z.string().regex(/^[a-z]{2}$/, "an ISO-639-1 code such as en").optional(),
  /** Read and kept for the API's sake; the engines here take no prompt. */
  prompt: z.string().max(4096).optional(),
  response_format: z.enum(TRANSCRIPTION_FORMATS).default("json"),
  temperature: z.coerce.number().min(0).max(1).optional(),
  "timestamp_granularities[]": z.union([z.enum(["word", "segment"]), z.array(z.enum(["word", "segment"])).max(2)]).optional(),
});
export type TranscriptionFields = z.infer<typeof transcriptionFields>;

/** OpenAI's speech and transcription model names: clients send them by default, flotilla serves them with any engine it has. */
export const OPENAI_SPEECH_MODELS: readonly string[] = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"];
export const OPENAI_TRANSCRIPTION_MODELS: readonly string[] = ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"];
