// A job: work that outlives the request that asked for it (issue 12). The
// spec is what a caller sends and is validated here, once; the job is what
// the queue keeps and hands back. Inputs stay opaque JSON until each kind's
// schema lands in the protocol: the queue only needs them bounded.
import { z } from "zod";
import { JOB_KINDS, JOB_PRIORITIES, poolName, type JobKind, type JobPriority } from "@flotilla/protocol";
import type { JobState } from "./job-state.ts";

export { JOB_KINDS, JOB_PRIORITIES, type JobKind, type JobPriority };

/** Where a kind runs unless its job names a pool: text on `brain`, each medium on its own. */
export const DEFAULT_POOL: Readonly<Record<JobKind, string>> = {
  chat: "brain",
  completion: "brain",
  embedding: "brain",
  split: "brain",
  image: "vision",
  video: "video",
  music: "audio",
  speech: "voice",
  transcription: "voice",
};


/** An input is kept whole in one row or one Redis value: 1 MiB of JSON at most. */
export const MAX_INPUT_JSON_BYTES = 1024 * 1024;
export const DEFAULT_MAX_ATTEMPTS = 3;

const jsonInput = z.unknown().superRefine((value, ctx) => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // A cycle or a BigInt: not JSON, whatever it looks like.
  }
  if (text === undefined) {
    ctx.addIssue({ code: "custom", message: "input must be a JSON value" });
  } else if (Buffer.byteLength(text) > MAX_INPUT_JSON_BYTES) {
    ctx.addIssue({ code: "custom", message: `input is over ${MAX_INPUT_JSON_BYTES} bytes of JSON` });
  }
});

export const jobSpecSchema = z.strictObject({
  kind: z.enum(JOB_KINDS),
  pool: poolName.optional(),
  priority: z.enum(JOB_PRIORITIES).default("normal"),
  input: jsonInput,
  idempotencyKey: z.string().min(1).max(300).optional(),
  maxAttempts: z.int().min(1).max(20).default(DEFAULT_MAX_ATTEMPTS),
  /** Who may see and cancel it: a client key's owner id (api/conversation-owner.ts), `admin` or `open`. */
  owner: z.string().min(1).max(100).optional(),
  /** Called once the job is terminal (jobs/webhooks); checked against the URL policy before it gets here. */
  webhookUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** The job this one is part of: a split run's chunk, a batch's line. */
  parentId: z.string().min(1).max(100).optional(),
});

/** What a caller may send (defaults not yet applied). */
export type JobSpecInput = z.input<typeof jobSpecSchema>;
/** A validated spec, defaults applied. */
export type JobSpec = z.output<typeof jobSpecSchema>;

export interface JobProgress {
  /** 0 to 1. */
  fraction: number;
  message: string;
}

export interface JobError {
  message: string;
  /** False when retrying cannot help (a bad input): the job failed at once. */
  retryable: boolean;
}

export interface Job {
  id: string;
  kind: JobKind;
  pool: string;
  priority: JobPriority;
  input: unknown;
  idempotencyKey: string | null;
  maxAttempts: number;
  owner: string | null;
  webhookUrl: string | null;
  parentId: string | null;
  state: JobState;
  /** Leases given so far; the last attempt is the one where this reaches maxAttempts. */
  attempts: number;
  /**
   * The fencing token: grows by one with every lease, so a worker whose lease
   * expired and was given to another cannot settle the job.
   */
  epoch: number;
  workerId: string | null;
  leaseDeadlineMs: number | null;
  /** A queued job is not leased before this (retry backoff). */
  notBeforeMs: number;
  progress: JobProgress | null;
  result: unknown;
  error: JobError | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** The job a fresh spec becomes; `pool` falls back to the kind's own. */
export function newJob(id: string, spec: JobSpec, nowMs: number): Job {
  return {
    id,
    kind: spec.kind,
    pool: spec.pool ?? DEFAULT_POOL[spec.kind],
    priority: spec.priority,
    input: spec.input,
    idempotencyKey: spec.idempotencyKey ?? null,
    maxAttempts: spec.maxAttempts,
    owner: spec.owner ?? null,
    webhookUrl: spec.webhookUrl ?? null,
    parentId: spec.parentId ?? null,
    state: "queued",
    attempts: 0,
    epoch: 0,
    workerId: null,
    leaseDeadlineMs: null,
    notBeforeMs: nowMs,
    progress: null,
    result: null,
    error: null,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}
