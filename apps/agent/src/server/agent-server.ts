// The agent's HTTP API, for its coordinator only: every route but /healthz
// needs the credential the coordinator was given at join. A workload answers
// as newline-delimited JSON events (agent-api.ts in the protocol); a closed
// connection cancels the work.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import {
  assignmentRequest,
  chunkEvent,
  failedEvent,
  tooManyBodies,
  clientErrorBody,
  FlotillaError,
  formatParam,
  resultEvent,
  toOpenAIErrorBody,
  workload,
  type AgentEvent,
  type AssignmentResponse,
  type WorkloadHost,
} from "@flotilla/protocol";
import { bearerToken, hashSecret } from "@flotilla/security";
import { recordRoutes } from "@flotilla/security/route-table";
import { DEFAULT_FAILURE_LIMIT, FailureLimiter, type FailureLimit } from "@flotilla/security/failure-limiter";
import { answerClientErrors, DEFAULT_HTTP_LIMITS, limitConnectionsPerIp, serverTimeoutOptions, type HttpLimits } from "@flotilla/security/http-limits";
import { releaseMemoryOfClosedConnections } from "@flotilla/security/release-memory";
import { budgetBodies } from "@flotilla/security/body-budget";
import { NdjsonWriter } from "./ndjson-writer.ts";
import { guardAuthFailures } from "./auth-failure-hooks.ts";
import type { AssignmentKeeper } from "../workloads/assignment-keeper.ts";

export interface AgentServerOptions {
  host: WorkloadHost;
  /** sha256 of the coordinator's credential; null until the agent has joined. */
  coordinatorCredentialHash: () => string | null;
  logger: FastifyBaseLogger;
  /** Header and body timeouts, connections per address; default DEFAULT_HTTP_LIMITS (docs/adr/0023). */
  httpLimits?: Partial<HttpLimits>;
  /** Failed authentications an address may make before it gets 429; default DEFAULT_FAILURE_LIMIT (docs/adr/0022). */
  authFailureLimit?: Partial<FailureLimit>;
  /** The failure limiter's clock; default Date.now. */
  nowMs?: () => number;
  /** What a coordinator may lend this agent for (issue 17); absent: the assignment routes answer 404. */
  assignments?: Pick<AssignmentKeeper, "assign" | "release" | "report">;
}

export function buildAgentServer(options: AgentServerOptions): FastifyInstance {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits };
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: 16 * 1024 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    ...serverTimeoutOptions(limits),
    clientErrorHandler: answerClientErrors(clientErrorBody),
  });
  limitConnectionsPerIp(app.server, limits.maxConnectionsPerIp, (address) =>
    options.logger.warn({ address, max: limits.maxConnectionsPerIp }, "connection refused: too many from this address"),
  );
  releaseMemoryOfClosedConnections(app.server);
  budgetBodies(app, limits.maxBodyBytesInFlight, tooManyBodies);
  // First, so that every route below is listed (tests/e2e/deny-by-default.test.ts).
  recordRoutes(app);
  const failures = new FailureLimiter({ ...DEFAULT_FAILURE_LIMIT, ...options.authFailureLimit, nowMs: options.nowMs ?? Date.now });
  guardAuthFailures(app, failures);

  app.setErrorHandler((err, _request, reply) => {
    const failure = err instanceof FlotillaError ? err : new FlotillaError("invalid_request", err instanceof Error ? err.message : "bad request");
    if (failure.retryAfterS !== undefined) void reply.header("retry-after", String(failure.retryAfterS));
    return reply.code(failure.status).send(toOpenAIErrorBody(failure));
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(toOpenAIErrorBody(new FlotillaError("not_found", "no such route"))));

  app.get("/healthz", () => ({ status: "ok" }));

  void app.register((api, _opts, done) => {
    api.addHook("onRequest", (request, _reply, next) => {
      const expected = options.coordinatorCredentialHash();
      const token = bearerToken(request.headers.authorization);
      if (expected === null || token === undefined || hashSecret(token) !== expected) {
        next(new FlotillaError("invalid_api_key", "this agent answers only its coordinator"));
        return;
      }
      next();
    });

    api.get("/agent/v1/status", () => options.host.load());

    // Ollama's /api/show on the coordinator asks for this: too large for heartbeats.
    api.get<{ Params: { id: string } }>("/agent/v1/models/:id/info", (request) => {
      const info = options.host.modelInfo?.(request.params.id);
      if (info === undefined) throw new FlotillaError("model_not_found", `this node does not serve "${request.params.id}"`, { param: "model" });
      return info;
    });

    // The coordinator has a request waiting for a model this agent unloaded when idle: load it (issue 17).
    api.post<{ Params: { id: string } }>("/agent/v1/models/:id/load", (request, reply) => {
      const { id } = request.params;
      const status = options.host.load().models.find((model) => model.id === id);
      if (status === undefined) throw new FlotillaError("model_not_found", `this node does not serve "${id}"`, { param: "model" });
      const started = options.host.loadModel?.(id) ?? false;
      return reply.code(202).send({ model: id, state: started ? "loading" : (status.state ?? "loaded") });
    });

    const keeper = () => {
      if (!options.assignments) throw new FlotillaError("not_found", "this agent takes no assignments");
      return options.assignments;
    };
    api.get("/agent/v1/assignment", (): AssignmentResponse => ({ assignment: keeper().report() }));
    // Provision a template this agent's configuration lists, by name; the same id again is the same assignment.
    api.put("/agent/v1/assignment", (request, reply) => {
      const assignments = keeper();
      const parsed = assignmentRequest.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const param = formatParam(issue?.path ?? []);
        throw new FlotillaError("invalid_request", `${param || "body"}: ${issue?.message ?? "invalid"}`, { param: param || null });
      }
      const body: AssignmentResponse = { assignment: assignments.assign(parsed.data) };
      return reply.code(202).send(body);
    });
    // Answers once the release has begun (stopping); the heartbeats say when it is gone.
    api.delete("/agent/v1/assignment", (request, reply) => {
      const assignments = keeper();
      if (assignments.report() === null) return reply.code(200).send({ assignment: null } satisfies AssignmentResponse);
      const released = assignments.release();
      released.catch((err: unknown) => request.log.error({ err }, "assignment release failed"));
      return reply.code(202).send({ assignment: assignments.report() } satisfies AssignmentResponse);
    });

    api.post("/agent/v1/run", async (request, reply) => {
      const parsed = workload.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new FlotillaError("invalid_request", `${formatParam(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`);
      }
      const controller = new AbortController();
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) controller.abort(new Error("coordinator disconnected"));
      });
      reply.hijack();
      reply.raw.writeHead(200, { "content-type": "application/x-ndjson" });
      // The head goes out now, not with the first token: the coordinator's
      // connect timeout waits for it, and a long prompt may take a while.
      reply.raw.flushHeaders();
      const out = new NdjsonWriter(reply.raw);
      const send = (event: AgentEvent) => out.send(event);
      try {
        const result = await options.host.run(parsed.data, {
          signal: controller.signal,
          onChunk: (chunk) => send(chunkEvent(chunk)),
        });
        send(resultEvent(result));
      } catch (err) {
        if (controller.signal.aborted) return;
        // Anything unexpected is this node failing: the coordinator retries it elsewhere and counts it.
        const failure = err instanceof FlotillaError ? err : new FlotillaError("backend_error", "the workload failed on the agent");
        if (!(err instanceof FlotillaError)) request.log.error({ err }, "generation failed");
        send(failedEvent(failure));
      }
      out.end();
    });
    done();
  });
  return app;
}
