// How a speech or transcription job runs (issues 12 and 18): its input, as
// for /v1/audio, becomes the same workload the audio routes dispatch. A
// speech job's audio is kept in the file store, owned by the job's key, and
// its result names the file and where to download it; a transcription job
// reads its audio from a file the key uploaded (purpose `user_data`) and
// keeps the transcript as its result, as verbose_json shows it.
import {
  FlotillaError,
  MAX_TRANSCRIPTION_BYTES,
  OPENAI_SPEECH_MODELS,
  OPENAI_TRANSCRIPTION_MODELS,
  speechJobInput,
  speechResultOf,
  transcriptionJobInput,
  transcriptionResultOf,
  type SpeechJobKind,
} from "@flotilla/protocol";
import type { Job } from "../../jobs/job.ts";
import type { PlannedJob } from "../../jobs/job-runner.ts";
import type { DispatchResult } from "../../dispatch/types.ts";
import type { FileStore } from "../../jobs/files/file-store.ts";
import { renderTranscript } from "../audio/transcript-formats.ts";

/** A speech job's result: its audio is a file of the job's key. */
export interface SpeechJobResult {
  object: "speech.result";
  file_id: string;
  url: string;
  format: string;
  bytes: number;
  duration_s: number;
}

export async function planSpeechJob(job: Job & { kind: SpeechJobKind }, files: FileStore): Promise<PlannedJob> {
  if (job.kind === "speech") {
    const input = speechJobInput.parse(job.input);
    const model = input.model === undefined || OPENAI_SPEECH_MODELS.includes(input.model) ? "auto" : input.model;
    const format = input.response_format ?? "mp3";
    return {
      request: {
        workload: { model, input: { kind: "speech", text: input.input, voice: input.voice ?? "alloy", format, speed: input.speed ?? 1 } },
        hints: {},
        continueOnFailure: false,
      },
      maxTokens: null,
      render: async (answer: DispatchResult): Promise<SpeechJobResult> => {
        const speech = speechResultOf(answer.result);
        const audio = Buffer.from(speech.audioBase64, "base64");
        const file = await files.put(audio, { owner: job.owner ?? "open", purpose: "job_result", filename: `${job.id}.${speech.format}` });
        return { object: "speech.result", file_id: file.id, url: `/v1/files/${file.id}/content`, format: speech.format, bytes: file.bytes, duration_s: speech.durationS };
      },
    };
  }
  const input = transcriptionJobInput.parse(job.input);
  const file = files.get(input.file_id);
  // The job's key must own it: another key's file is as good as missing.
  if (file === null || file.owner !== (job.owner ?? "open")) throw new FlotillaError("invalid_request", `input.file_id: no file '${input.file_id}'`, { param: "input.file_id" });
  if (file.bytes === 0) throw new FlotillaError("invalid_request", `input.file_id: file '${input.file_id}' is empty`, { param: "input.file_id" });
  if (file.bytes > MAX_TRANSCRIPTION_BYTES) {
    throw new FlotillaError("invalid_request", `input.file_id: at most ${MAX_TRANSCRIPTION_BYTES / (1024 * 1024)} MiB of audio a job`, { param: "input.file_id" });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of files.open(file)) chunks.push(chunk as Buffer);
  const model = input.model === undefined || OPENAI_TRANSCRIPTION_MODELS.includes(input.model) ? "auto" : input.model;
  return {
    request: {
      workload: { model, input: { kind: "transcription", audioBase64: Buffer.concat(chunks).toString("base64"), ...(input.language === undefined ? {} : { language: input.language }) } },
      hints: {},
      continueOnFailure: false,
    },
    maxTokens: null,
    render: (answer: DispatchResult) => renderTranscript(transcriptionResultOf(answer.result), "verbose_json", ["segment", "word"]).body,
  };
}
