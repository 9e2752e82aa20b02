// The seed's own shapes (its load-balancer farm), so its scripts keep
// working: POST /generate runs a split job and answers when it is done;
// GET /queue-status says what waits and what runs (queue-status.ts). Both
// take a client key, as /v1 does, and answer errors in OpenAI's shape
// (docs/adr/0038).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { DEFAULT_SPLIT_CHUNK_LINES, FlotillaError, JOB_PRIORITIES, poolName, type SplitResult } from "@flotilla/protocol";
import type { JobService } from "../../jobs/job-service.ts";
import type { NodeRegistry } from "../../nodes/node-registry.ts";
import type { JobCounts } from "../../jobs/job-queue.ts";
import { waitForEnd } from "../../jobs/job-waits.ts";
import { parseBody } from "../validate.ts";
import { rejectOtherMethods } from "../method-not-allowed.ts";
import { validateJobInput } from "./job-inputs.ts";
import { queueStatus } from "./queue-status.ts";
import { checkJobLimits, checkPool } from "./job-limits.ts";

export interface SeedRoutesOptions {
  jobs: JobService;
  registry: NodeRegistry;
  ownerOf: (request: FastifyRequest) => string;
  /** The pools a job may name (job-limits.ts). */
  pools: () => ReadonlySet<string>;
  nowMs: () => number;
}

const generateRequest = z.strictObject({
  commands: z.string(),
  model: z.string(),
  /** Lines per chunk. */
  split: z.int().min(1).max(10_000).default(DEFAULT_SPLIT_CHUNK_LINES),
  prompt_template: z.string().optional(),
  max_tokens: z.int().min(1).optional(),
  pool: poolName.optional(),
  priority: z.enum(JOB_PRIORITIES).optional(),
});

/** POST /generate's answer: the split run's result under the seed's names, with its job. */
export interface GenerateResponse extends SplitResult {
  job_id: string;
}

export function registerSeedRoutes(app: FastifyInstance, options: SeedRoutesOptions): void {
  const { jobs } = options;
  // Held /generate requests end when the app closes, or its close would wait for every run to finish.
  const held = new Set<AbortController>();
  app.addHook("preClose", (done) => {
    for (const controller of held) controller.abort();
    done();
  });

  app.post("/generate", async (request, reply): Promise<GenerateResponse> => {
    const body = parseBody(generateRequest, request.body);
    // The split input's own checks (chunk count, the template's {chunk}), named by the seed's fields.
    const input = renamed(() =>
      validateJobInput("split", {
        commands: body.commands,
        chunk_size: body.split,
        model: body.model,
        ...(body.prompt_template === undefined ? {} : { prompt_template: body.prompt_template }),
        ...(body.max_tokens === undefined ? {} : { max_tokens: body.max_tokens }),
      }),
    );
    if (body.pool !== undefined) checkPool(body.pool, options.pools());
    const owner = options.ownerOf(request);
    await checkJobLimits(jobs, owner);
    const job = await jobs.queue.enqueue({
      kind: "split",
      input,
      owner,
      pool: body.pool ?? jobs.defaultPool("split"),
      ...(body.priority === undefined ? {} : { priority: body.priority }),
    });
    jobs.pools.add(job.pool);
    // The run goes on if the client hangs up or the coordinator stops: it is a job (GET /v1/jobs/{id}).
    const following = new AbortController();
    held.add(following);
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) following.abort();
    });
    let ended;
    try {
      ended = await waitForEnd(jobs.queue, job.id, following.signal);
    } finally {
      held.delete(following);
    }
    if (ended === null) {
      throw new FlotillaError("server_busy", `the coordinator is stopping; the split run goes on as job ${job.id} (GET /v1/jobs/${job.id})`, { retryAfterS: 5 });
    }
    if (ended.state === "succeeded") return { ...(ended.result as SplitResult), job_id: job.id };
    throw new FlotillaError("backend_error", `the split run ${job.id} ended ${ended.state}: ${ended.error?.message ?? "no reason given"}`);
  });

  app.get("/queue-status", async () => {
    const counts = new Map<string, JobCounts>();
    for (const pool of jobs.pools.list()) counts.set(pool, await jobs.queue.counts(pool));
    return queueStatus(counts, options.registry.statuses(options.nowMs()));
  });

  rejectOtherMethods(app, "/generate", ["POST"]);
  rejectOtherMethods(app, "/queue-status", ["GET"]);
}

/** Runs `check`, naming the split input's fields as /generate's body does (chunk_size is `split`). */
function renamed<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof FlotillaError) || err.param === null) throw err;
    const param = err.param.replace(/^input\./, "").replace(/^chunk_size$/, "split");
    throw new FlotillaError(err.code, err.message.replace(/^input\./, "").replace(/^chunk_size/, "split"), { param });
  }
}
