// /v1/jobs: the async job API (issue 12). A job belongs to the key that made
// it, as a conversation does (docs/adr/0026): another key gets 404, the admin
// key sees every job. Inputs are checked before anything is queued; per-key
// and overall limits answer 429 with Retry-After.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import {
  FlotillaError,
  isTerminalJobState,
  isSpeechJobKind,
  isTextJobKind,
  JOB_KINDS,
  JOB_STATES,
  jobSubmitRequest,
  poolName,
  type JobEventMessage,
  type JobKind,
  type JobList,
  type JobObject,
} from "@flotilla/protocol";
import type { Job } from "../../jobs/job.ts";
import type { JobService } from "../../jobs/job-service.ts";
import type { JobChange } from "../../jobs/job-queue.ts";
import { parseBody } from "../validate.ts";
import { rejectOtherMethods } from "../method-not-allowed.ts";
import { validateJobInput } from "./job-inputs.ts";
import { jobView } from "./job-view.ts";
import { checkJobLimits, checkPool } from "./job-limits.ts";

export interface JobCaller {
  owner: string;
  /** The admin key: sees and cancels every job. */
  admin: boolean;
}

export interface JobRoutesOptions {
  jobs: JobService;
  callerOf: (request: FastifyRequest) => JobCaller;
  webhooks: {
    /** Null when a webhook URL may be called, else why not: the node URL policy. */
    problemWith: (url: string) => Promise<string | null>;
    /** Owes the job's webhook once it ends (jobs/webhooks). */
    watch: (job: Job) => Promise<void>;
  };
  /** The pools a job may name: the kinds' defaults and the nodes' pools. */
  pools: () => ReadonlySet<string>;
  /** Kinds some worker runs besides the coordinator's own (media workers). */
  otherServedKinds: () => readonly JobKind[];
  /** How often a held event stream is sent the job while nothing changes: at least once a second. */
  eventIntervalMs?: number;
  nowMs: () => number;
}

const listQuery = z.strictObject({
  state: z.enum(JOB_STATES).optional(),
  pool: poolName.optional(),
  kind: z.enum(JOB_KINDS).optional(),
  /** A split run's chunks, a batch's lines. */
  parent_id: z.string().min(1).max(100).optional(),
  after: z.string().max(20).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const idParams = z.strictObject({ id: z.string().min(1).max(100) });

export function registerJobRoutes(app: FastifyInstance, options: JobRoutesOptions): void {
  const { jobs, nowMs } = options;
  const queue = jobs.queue;
  const eventIntervalMs = options.eventIntervalMs ?? 1000;

  // Held event streams end when the app closes, or its close would wait for every job to finish.
  const openStreams = new Set<() => void>();
  app.addHook("preClose", (done) => {
    for (const end of openStreams) end();
    done();
  });

  const servedKinds = (): ReadonlySet<JobKind> => new Set<JobKind>([...jobs.servedKinds(), ...options.otherServedKinds()]);

  async function view(job: Job): Promise<JobObject> {
    return jobView(job, {
      position: job.state === "queued" ? await queue.position(job.id) : null,
      pace: jobs.runner.pace(job.pool),
      concurrency: jobs.runner.concurrency,
      nodes: jobs.nodesOf(job),
      servedKinds: servedKinds(),
      nowMs: nowMs(),
    });
  }

  /** The caller's job, or a 404 that does not say whether another key's exists. */
  async function ownJob(request: FastifyRequest): Promise<Job> {
    const { id } = parseParams(request.params);
    const job = await queue.get(id);
    const caller = options.callerOf(request);
    if (job === null || !(caller.admin || job.owner === caller.owner)) {
      throw new FlotillaError("not_found", `no job '${id}'`, { param: "id" });
    }
    return job;
  }

  app.post("/v1/jobs", async (request, reply) => {
    const body = parseBody(jobSubmitRequest, request.body);
    const input = validateJobInput(body.kind, body.input);
    if (body.pool !== undefined) checkPool(body.pool, options.pools());
    if (body.webhook !== undefined) {
      const problem = await options.webhooks.problemWith(body.webhook);
      if (problem !== null) throw new FlotillaError("invalid_request", `webhook: ${problem}`, { param: "webhook" });
    }
    const caller = options.callerOf(request);
    // Scoped to the key, so one key's idempotency keys can never return another's job.
    const idempotencyKey = body.idempotency_key === undefined ? undefined : `${caller.owner}:${body.idempotency_key}`;
    // A repeat returns the job it made, whatever the limits say now.
    if (idempotencyKey === undefined || (await queue.byIdempotencyKey(idempotencyKey)) === null) await checkJobLimits(jobs, caller.owner);
    const job = await queue.enqueue({
      kind: body.kind,
      input,
      pool: body.pool ?? jobs.defaultPool(body.kind),
      ...(body.priority === undefined ? {} : { priority: body.priority }),
      ...(body.max_attempts === undefined ? {} : { maxAttempts: body.max_attempts }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      ...(body.webhook === undefined ? {} : { webhookUrl: body.webhook }),
      owner: caller.owner,
    });
    jobs.pools.add(job.pool);
    await options.webhooks.watch(job);
    return reply.code(202).send(await view(job));
  });

  app.get("/v1/jobs", async (request): Promise<JobList> => {
    const query = parseQuery(request.query);
    const caller = options.callerOf(request);
    const page = await queue.list(
      {
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.pool === undefined ? {} : { pool: query.pool }),
        ...(query.kind === undefined ? {} : { kind: query.kind }),
        ...(query.parent_id === undefined ? {} : { parentId: query.parent_id }),
        ...(caller.admin ? {} : { owner: caller.owner }),
      },
      { cursor: query.after ?? null, limit: query.limit },
    ).catch((err: unknown) => {
      throw err instanceof Error && err.name === "InvalidCursorError" ? new FlotillaError("invalid_request", err.message, { param: "after" }) : err;
    });
    const data = await Promise.all(page.jobs.map(view));
    return { object: "list", data, next_cursor: page.nextCursor, has_more: page.nextCursor !== null };
  });

  app.get("/v1/jobs/:id", async (request) => view(await ownJob(request)));

  app.post("/v1/jobs/:id/cancel", async (request) => {
    const job = await ownJob(request);
    const outcome = await queue.cancel(job.id);
    if (outcome.status === "not_found") throw new FlotillaError("not_found", `no job '${job.id}'`, { param: "id" });
    if (outcome.status === "terminal" && outcome.job.state !== "cancelled") {
      throw new FlotillaError("conflict", `the job already ${outcome.job.state === "succeeded" ? "succeeded" : `ended ${outcome.job.state}`}: there is nothing to cancel`);
    }
    return view(outcome.job);
  });

  app.get("/v1/jobs/:id/result", async (request) => {
    const job = await ownJob(request);
    if (job.state === "succeeded") return resultBody(job);
    if (isTerminalJobState(job.state)) {
      throw new FlotillaError("conflict", `the job ended ${job.state} and has no result${job.error === null ? "" : `: ${job.error.message}`}`);
    }
    throw new FlotillaError("conflict", `the job is ${job.state}: its result is not ready (follow /v1/jobs/${job.id}/events)`);
  });

  app.get("/v1/jobs/:id/events", async (request, reply) => {
    const job = await ownJob(request);
    streamEvents(reply, job.id);
  });

  rejectOtherMethods(app, "/v1/jobs", ["GET", "POST"]);
  rejectOtherMethods(app, "/v1/jobs/:id", ["GET"]);
  rejectOtherMethods(app, "/v1/jobs/:id/cancel", ["POST"]);
  rejectOtherMethods(app, "/v1/jobs/:id/result", ["GET"]);
  rejectOtherMethods(app, "/v1/jobs/:id/events", ["GET"]);

  /**
   * Server-sent events: the job now, then on every change, and at least once
   * every eventIntervalMs while it waits or runs (its position, its progress).
   * The stream ends after the event that shows it terminal.
   */
  function streamEvents(reply: FastifyReply, id: string): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    let closed = false;
    let sending = Promise.resolve();
    const send = (type: JobEventMessage["type"], fresh?: Job) => {
      sending = sending.then(async () => {
        if (closed) return;
        const job = fresh ?? (await queue.get(id));
        if (job === null || closed) return;
        const message: JobEventMessage = { type, job: await view(job) };
        res.write(`data: ${JSON.stringify(message)}\n\n`);
        if (isTerminalJobState(job.state)) end();
      }).catch(() => end());
    };
    const unsubscribe = queue.subscribe((change: JobChange) => {
      if (change.job.id === id) send(change.type, change.job);
    });
    const timer = setInterval(() => send("position"), eventIntervalMs);
    const end = () => {
      if (closed) return;
      closed = true;
      openStreams.delete(end);
      clearInterval(timer);
      unsubscribe();
      res.end();
    };
    res.once("close", end);
    openStreams.add(end);
    send("state");
  }
}

function resultBody(job: Job): unknown {
  // Text and speech jobs keep their answer beside the nodes (jobs/text-job-result.ts): the answer is the result.
  if ((isTextJobKind(job.kind) || isSpeechJobKind(job.kind)) && typeof job.result === "object" && job.result !== null && "response" in job.result) {
    return job.result.response;
  }
  return job.result;
}

function parseParams(params: unknown): { id: string } {
  const parsed = idParams.safeParse(params);
  if (!parsed.success) throw new FlotillaError("invalid_request", "the job id must be 1 to 100 characters", { param: "id" });
  return parsed.data;
}

function parseQuery(query: unknown): z.infer<typeof listQuery> {
  const parsed = listQuery.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join(".") ?? "";
  throw new FlotillaError("invalid_request", `${param === "" ? "query" : param}: ${issue?.message ?? "invalid query"}`, { param: param === "" ? null : param });
}
