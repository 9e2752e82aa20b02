// The async job API's wire shapes (issue 12): what a client submits to
// POST /v1/jobs and what GET /v1/jobs/{id}, the list and the event stream
// answer. snake_case, as the rest of /v1. The CLI parses every answer with
// these; the coordinator builds them (gateway/jobs).
import { z } from "zod";
import { poolName } from "./cluster.ts";

export const JOB_KINDS = ["chat", "completion", "embedding", "split", "image", "video", "music", "speech", "transcription"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Kinds the coordinator runs itself, through the same routing and nodes as /v1. */
export const TEXT_JOB_KINDS = ["chat", "completion", "embedding"] as const satisfies readonly JobKind[];
export type TextJobKind = (typeof TEXT_JOB_KINDS)[number];

/** Speech kinds: their engines are models on nodes, so the coordinator dispatches them as it does text (issue 18). */
export const SPEECH_JOB_KINDS = ["speech", "transcription"] as const satisfies readonly JobKind[];
export type SpeechJobKind = (typeof SPEECH_JOB_KINDS)[number];

export function isSpeechJobKind(kind: JobKind): kind is SpeechJobKind {
  return (SPEECH_JOB_KINDS as readonly JobKind[]).includes(kind);
}

export function isTextJobKind(kind: JobKind): kind is TextJobKind {
  return (TEXT_JOB_KINDS as readonly JobKind[]).includes(kind);
}

export const JOB_PRIORITIES = ["high", "normal", "low"] as const;
export type JobPriority = (typeof JOB_PRIORITIES)[number];

export const JOB_STATES = ["queued", "leased", "running", "succeeded", "failed", "cancelled", "dead"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const jobSubmitRequest = z.strictObject({
  kind: z.enum(JOB_KINDS),
  /** The request body as for /v1 (text kinds), or the kind's input schema (job-inputs.ts). */
  input: z.unknown(),
  pool: poolName.optional(),
  priority: z.enum(JOB_PRIORITIES).optional(),
  /** POSTed a `job.<state>` event once the job ends, signed as Standard Webhooks are (GET /v1/webhooks/secret). */
  webhook: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** The same key (per API key) gives back the same job. */
  idempotency_key: z.string().min(1).max(200).optional(),
  max_attempts: z.int().min(1).max(20).optional(),
});
export type JobSubmitRequest = z.infer<typeof jobSubmitRequest>;

export const jobObject = z.object({
  id: z.string(),
  object: z.literal("job"),
  kind: z.enum(JOB_KINDS),
  pool: z.string(),
  priority: z.enum(JOB_PRIORITIES),
  state: z.enum(JOB_STATES),
  /** Jobs of its pool that will be leased before it (0: next); null once it left the queue. */
  position: z.number().int().min(0).nullable(),
  /** Seconds until it is expected to finish, from the pool's measured throughput; null when unknown. */
  eta_s: z.number().min(0).nullable(),
  /** Why a queued job is not running yet, when the coordinator knows. */
  waiting_reason: z.string().nullable(),
  attempts: z.number().int().min(0),
  max_attempts: z.number().int().min(1),
  /** The node (or nodes, when resumed) that answered; null until one did. */
  nodes: z.array(z.string()),
  progress: z.object({ fraction: z.number().min(0).max(1), message: z.string() }).nullable(),
  created_at: z.number(),
  updated_at: z.number(),
  /** Where the result is read, once it succeeded. */
  result_url: z.string().nullable(),
  error: z.object({ message: z.string(), retryable: z.boolean() }).nullable(),
  parent_id: z.string().nullable(),
});
export type JobObject = z.infer<typeof jobObject>;

export const jobList = z.object({
  object: z.literal("list"),
  data: z.array(jobObject),
  /** Pass as `after` for the next page; null on the last one. */
  next_cursor: z.string().nullable(),
  has_more: z.boolean(),
});
export type JobList = z.infer<typeof jobList>;

/** One server-sent event of GET /v1/jobs/{id}/events: the job as it is now, and why it was sent. */
export const jobEvent = z.object({
  type: z.enum(["state", "progress", "position"]),
  job: jobObject,
});
export type JobEventMessage = z.infer<typeof jobEvent>;

export function isTerminalJobState(state: JobState): boolean {
  return state === "succeeded" || state === "failed" || state === "cancelled" || state === "dead";
}

/** GET /v1/webhooks/secret: what verifies the webhooks of the caller's jobs (Standard Webhooks, `whsec_…`). */
export interface WebhookSecret {
  object: "webhook_secret";
  secret: string;
}

/** The result of a `split` job: the chunks' answers, in order, and what each cost. */
export interface SplitResult {
  object: "split.result";
  model: string;
  /** The answers joined, one per chunk, in the order of the chunks, separated by a newline. */
  output: string;
  chunks: Array<{ index: number; job_id: string; output: string; nodes: string[] }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
