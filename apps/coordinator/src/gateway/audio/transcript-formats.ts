// A transcription result in the response_format a client asked for, as
// OpenAI writes each: json ({text, usage}), text, verbose_json (language,
// duration, segments and, when asked, words), srt and vtt subtitles. Pure.
import { LANGUAGE_NAMES, type TranscriptionFormat, type TranscriptionResult } from "@flotilla/protocol";

export interface Rendered {
  contentType: string;
  body: string | object;
}

export function renderTranscript(result: TranscriptionResult, format: TranscriptionFormat, granularities: readonly ("word" | "segment")[]): Rendered {
  switch (format) {
    case "json":
      return { contentType: "application/json", body: { text: result.text, usage: { type: "duration", seconds: Math.ceil(result.durationS) } } };
    case "text":
      return { contentType: "text/plain; charset=utf-8", body: `${result.text}\n` };
    case "verbose_json":
      return { contentType: "application/json", body: verbose(result, granularities) };
    case "srt":
      return { contentType: "application/x-subrip; charset=utf-8", body: subtitles(result, ",", (i) => `${i + 1}\n`) };
    case "vtt":
      return { contentType: "text/vtt; charset=utf-8", body: `WEBVTT\n\n${subtitles(result, ".", () => "")}` };
  }
}

function verbose(result: TranscriptionResult, granularities: readonly ("word" | "segment")[]): object {
  const wantSegments = granularities.length === 0 || granularities.includes("segment");
  return {
    task: "transcribe",
    language: LANGUAGE_NAMES[result.language] ?? result.language,
    duration: round(result.durationS),
    text: result.text,
    ...(wantSegments
      ? {
          segments: result.segments.map((segment, id) => ({
            id,
            seek: 0,
            start: round(segment.startS),
            end: round(segment.endS),
            text: segment.text,
            // What Whisper reports and these engines do not know: neutral values, never made-up confidence.
            tokens: [],
            temperature: 0,
            avg_logprob: 0,
            compression_ratio: 0,
            no_speech_prob: 0,
          })),
        }
      : {}),
    ...(granularities.includes("word") ? { words: result.words.map((w) => ({ word: w.word, start: round(w.startS), end: round(w.endS) })) } : {}),
    usage: { type: "duration", seconds: Math.ceil(result.durationS) },
  };
}

/** One cue per segment: `HH:MM:SS,mmm --> HH:MM:SS,mmm` (srt) or with a dot (vtt). */
function subtitles(result: TranscriptionResult, separator: "," | ".", number: (i: number) => string): string {
  return result.segments
    .filter((segment) => segment.text.trim() !== "")
    .map((segment, i) => `${number(i)}${timestamp(segment.startS, separator)} --> ${timestamp(segment.endS, separator)}\n${segment.text.trim()}\n`)
    .join("\n");
}

export function timestamp(seconds: number, separator: "," | "."): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const h = Math.floor(totalMs / 3_600_000);
  const m = Math.floor((totalMs % 3_600_000) / 60_000);
  const s = Math.floor((totalMs % 60_000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(totalMs % 1000, 3)}`;
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}
