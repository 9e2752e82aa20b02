// The inputs of the job kinds that are not a /v1 request body (issue 12).
// Text kinds (chat, completion, embedding) take the /v1 body as it is
// (openai.ts); `split` and the media kinds take these. Media kinds are
// queued now and run once a pool offers a backend for them (issue 17).
import { z } from "zod";
import type { JobKind } from "./jobs-api.ts";

const prompt = z.string().min(1).max(16_000);
const model = z.string().min(1).max(256);
const seed = z.int().min(0).max(2 ** 32 - 1);
const size = z.string().regex(/^\d{2,5}x\d{2,5}$/, "WIDTHxHEIGHT, such as 1024x1024");

export const imageJobInput = z.strictObject({
  prompt,
  negative_prompt: prompt.optional(),
  model: model.optional(),
  size: size.optional(),
  n: z.int().min(1).max(8).optional(),
  steps: z.int().min(1).max(200).optional(),
  seed: seed.optional(),
});

export const videoJobInput = z.strictObject({
  prompt,
  model: model.optional(),
  size: size.optional(),
  seconds: z.number().positive().max(120).optional(),
  seed: seed.optional(),
});

export const musicJobInput = z.strictObject({
  prompt,
  model: model.optional(),
  seconds: z.number().positive().max(600).optional(),
  seed: seed.optional(),
});

/** As OpenAI's POST /v1/audio/speech body. */
export const speechJobInput = z.strictObject({
  input: z.string().min(1).max(4096),
  model: model.optional(),
  voice: z.string().min(1).max(64).optional(),
  response_format: z.enum(["mp3", "opus", "aac", "flac", "wav", "pcm"]).optional(),
  speed: z.number().min(0.25).max(4).optional(),
});

/** The audio is a file uploaded to /v1/files, named by its id. */
export const transcriptionJobInput = z.strictObject({
  file_id: z.string().min(1).max(100),
  model: model.optional(),
  language: z.string().regex(/^[a-z]{2}$/, "an ISO-639-1 code such as en").optional(),
  prompt: prompt.optional(),
});

export const DEFAULT_SPLIT_CHUNK_LINES = 10;
export const MAX_SPLIT_CHUNKS = 10_000;

/** The seed's load-balancer farm: a text cut into chunks of lines, each asked of the model alone, answers joined in order. */
export const splitJobInput = z
  .strictObject({
    commands: z.string().min(1).max(1024 * 1024),
    chunk_size: z.int().min(1).max(10_000).default(DEFAULT_SPLIT_CHUNK_LINES),
    /** `{chunk}` is replaced by the chunk's lines. */
    prompt_template: z.string().min(1).max(16_000).default("{chunk}"),
    model,
    max_tokens: z.int().min(1).optional(),
  })
  .refine((input) => input.prompt_template.includes("{chunk}"), { message: "prompt_template must contain {chunk}", path: ["prompt_template"] })
  .refine((input) => Math.ceil(lineCount(input.commands) / input.chunk_size) <= MAX_SPLIT_CHUNKS, {
    message: `commands would make more than ${MAX_SPLIT_CHUNKS} chunks: raise chunk_size`,
    path: ["commands"],
  });

/** Lines in a text, a final newline ending the last rather than starting one. */
function lineCount(text: string): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines += 1;
  return text.endsWith("\n") ? lines - 1 : lines;
}
export type SplitJobInput = z.output<typeof splitJobInput>;

/** The schema of each kind whose input is not a /v1 body. */
export const MEDIA_AND_SPLIT_INPUTS = {
  split: splitJobInput,
  image: imageJobInput,
  video: videoJobInput,
  music: musicJobInput,
  speech: speechJobInput,
  transcription: transcriptionJobInput,
} as const satisfies Partial<Record<JobKind, z.ZodType>>;
