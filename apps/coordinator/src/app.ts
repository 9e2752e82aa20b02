// The coordinator's HTTP application, built by a factory and listened on by
// the caller, so tests can use it in-process or as a real server. It sits at
// the root of src/, beside index.ts, because it composes two folders: the
// OpenAI gateway (gateway/) and the cluster API (api/), which itself uses the
// gateway's translation and validation (docs/adr/0015).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from "fastify";
import { clientErrorBody, FlotillaError, ROAMER_POOL, tooManyBodies } from "@flotilla/protocol";
import type { NodeRegistry } from "./nodes/node-registry.ts";
import type { ApiKeys } from "./auth/api-keys.ts";
import { bearerToken, secretsEqual } from "@flotilla/security";
import { recordRoutes } from "@flotilla/security/route-table";
import { FailureLimiter, type FailureLimit } from "@flotilla/security/failure-limiter";
import { answerClientErrors, limitConnectionsPerIp, serverTimeoutOptions, type HttpLimits } from "@flotilla/security/http-limits";
import { releaseMemoryOfClosedConnections } from "@flotilla/security/release-memory";
import { budgetBodies } from "@flotilla/security/body-budget";
import { guardAuthFailures } from "./auth/auth-failure-hooks.ts";
import { registerHealthRoutes } from "./api/health-routes.ts";
import { registerClusterRoutes, type DispatchState } from "./api/cluster-routes.ts";
import { registerMembershipRoutes } from "./api/membership-routes.ts";
import { registerNodeTestRoutes } from "./api/node-test-routes.ts";
import { registerRouteExplainRoutes } from "./api/route-explain-routes.ts";
import { registerPoolRoutes } from "./api/pool-routes.ts";
import { LongUploads, registerModelStoreRoutes } from "./api/model-store-routes.ts";
import type { ModelStore } from "./models/model-store.ts";
import type { RoamerController } from "./pools/roamer-controller.ts";
import type { PoolBook } from "./pools/pool-book.ts";
import type { Router } from "./router/router.ts";
import type { GenerationDispatcher } from "./dispatch/types.ts";
import type { GatewayMetrics } from "./metrics/gateway-metrics.ts";
import { registerMetricsRoutes } from "./api/metrics-routes.ts";
import { registerExecuteRoutes } from "./api/execute-routes.ts";
import type { Conversations } from "./store/conversations.ts";
import { callerOf } from "./api/conversation-owner.ts";
import type { Membership } from "./nodes/agent/membership.ts";
import type { AgentlessNodes } from "./nodes/agentless/agentless-nodes.ts";
import type { NodeOwners } from "./nodes/node-owner.ts";
import type { DiscoveredAgent } from "./discovery/mdns-coordinator.ts";
import { registerOpenAIRoutes } from "./gateway/openai-routes.ts";
import { registerMcpRoutes } from "./mcp/mcp-routes.ts";
import { toFlotillaError } from "./gateway/errors.ts";
import { bodyIsOptional } from "./gateway/optional-body.ts";
import { registerOllamaRoutes } from "./gateway/ollama/ollama-routes.ts";
import { registerJobRoutes } from "./gateway/jobs/job-routes.ts";
import type { JobService } from "./jobs/job-service.ts";
import { DEFAULT_POOL } from "./jobs/job.ts";
import type { OpenAIBatches } from "./jobs/batches/openai-batches.ts";
import type { WebhookService } from "./jobs/webhooks/webhook-service.ts";
import { registerWebhookRoutes } from "./gateway/jobs/webhook-routes.ts";
import { registerSeedRoutes } from "./gateway/jobs/seed-routes.ts";
import { registerAudioRoutes } from "./gateway/audio/audio-routes.ts";
import { registerFileRoutes } from "./gateway/batches/file-routes.ts";
import { registerBatchRoutes } from "./gateway/batches/batch-routes.ts";
import { errorBodyFor, isOllamaPath, ollamaPathNotFound } from "./gateway/ollama/ollama-errors.ts";

export interface GatewayOptions {
  registry: NodeRegistry;
  membership: Membership;
  agentless: AgentlessNodes;
  jobs: JobService;
  /** Declared pools (a job's default pool is its kind's) and the roamers lent to them (docs/adr/0040). */
  pools: PoolBook;
  roamers: RoamerController;
  /** Model files agents pull when they provision a template (docs/adr/0042). */
  models: ModelStore;
  /** OpenAI's Files and Batch APIs (docs/adr/0037). */
  batches: OpenAIBatches;
  /** Jobs' webhooks and the secrets that verify them (docs/adr/0036). */
  webhooks: WebhookService;
  /** Who keeps each kind of node (drain, removal). */
  owners: NodeOwners;
  apiKeys: ApiKeys;
  adminKey: string;
  bodyLimitBytes: number;
  /** Header and body timeouts, connections per address (docs/adr/0023). */
  httpLimits: HttpLimits;
  /** Failed authentications an address may make before it gets 429 (docs/adr/0022). */
  authFailureLimit: FailureLimit;
  logger: FastifyBaseLogger;
  discovered: () => DiscoveredAgent[];
  router: Router;
  dispatcher: GenerationDispatcher;
  /** routing.continueOnFailure from the cluster file. */
  continueOnFailure: boolean;
  /** The most tokens one answer may have (ADR 0017). */
  maxTokensLimit: number;
  metrics: GatewayMetrics;
  dispatchState: DispatchState;
  /** Where /cluster/execute keeps its conversations. */
  conversations: Conversations;
  /** How long a conversation is kept after its last turn. */
  conversationTtlMs: number;
  /** FLOTILLA_METRICS_KEY: lets a Prometheus server scrape without the admin key. */
  metricsKey: string | undefined;
  nowMs?: () => number;
}

export function buildGateway(options: GatewayOptions): FastifyInstance {
  const nowMs = options.nowMs ?? Date.now;
  // A model upload outlasts the whole-request timeout; it is bounded by progress instead (api/model-store-routes.ts).
  const longUploads = new LongUploads();
  const answerClientError = answerClientErrors(clientErrorBody);
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    // One line per request costs more than the gateway itself; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ...serverTimeoutOptions(options.httpLimits),
    clientErrorHandler: (err, socket) => {
      if (!longUploads.excuses(err, socket)) answerClientError(err, socket);
    },
  });
  limitConnectionsPerIp(app.server, options.httpLimits.maxConnectionsPerIp, (address) =>
    options.logger.warn({ address, max: options.httpLimits.maxConnectionsPerIp }, "connection refused: too many from this address"),
  );
  releaseMemoryOfClosedConnections(app.server);
  budgetBodies(app, options.httpLimits.maxBodyBytesInFlight, tooManyBodies);
  // First, so that every route below is listed (tests/e2e/deny-by-default.test.ts).
  recordRoutes(app);
  guardAuthFailures(app, new FailureLimiter({ ...options.authFailureLimit, nowMs }), new Set(["/healthz", "/readyz", "/", "/api/version"]));

  // Any body is read as JSON, whatever its content type: `curl -d` sends
  // form encoding by default, and llama-server and Ollama accept it too.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("*", { parseAs: "string" }, (request, body, done) => {
    // An empty body where none is needed is no body (gateway/optional-body.ts).
    if (body === "" && bodyIsOptional(request.method, request.routeOptions.url)) {
      done(null, undefined);
      return;
    }
    // parseAs "string" hands a string; the type admits a Buffer for other parsers.
    void parseJson(request, typeof body === "string" ? body : body.toString("utf8"), done);
  });

  app.setErrorHandler((err, request, reply) => {
    const failure = toFlotillaError(err, request.log);
    if (failure.retryAfterS !== undefined) void reply.header("retry-after", String(failure.retryAfterS));
    // Ollama's paths answer in Ollama's shape (gateway/ollama/ollama-errors.ts).
    return reply.code(failure.status).send(errorBodyFor(request.url, failure));
  });
  app.setNotFoundHandler((request, reply) => {
    const failure = isOllamaPath(request.url)
      ? ollamaPathNotFound(request.method, request.url)
      : new FlotillaError("not_found", `Unknown request URL: ${request.method} ${request.url.split("?")[0]}`);
    return reply.code(404).send(errorBodyFor(request.url, failure));
  });

  const requireClientKey = (request: FastifyRequest): Promise<void> => {
    if (!options.apiKeys.required) return Promise.resolve();
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && (options.apiKeys.isValid(token) || secretsEqual(token, options.adminKey))) {
      return Promise.resolve();
    }
    return Promise.reject(unauthorized(token));
  };
  const requireAdmin = (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && secretsEqual(token, options.adminKey)) return Promise.resolve();
    return Promise.reject(unauthorized(token));
  };

  // The model store's downloads: an agent pulls with its node credential (docs/adr/0042).
  const requireAdminOrNode = (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && (secretsEqual(token, options.adminKey) || options.membership.nodeFor(token) !== undefined)) return Promise.resolve();
    return Promise.reject(unauthorized(token));
  };

  // The pools a job may name: each kind's default, the declared ones and every node's.
  const poolsKnown = (): ReadonlySet<string> =>
    new Set([...Object.values(DEFAULT_POOL), ...options.pools.declared(), ...options.registry.statuses(nowMs()).map((node) => node.pool).filter((pool) => pool !== ROAMER_POOL)]);

  // Who owns what a request makes: a conversation, a job (docs/adr/0026).
  const callerOfRequest = (request: FastifyRequest) =>
    callerOf({
      keysRequired: options.apiKeys.required,
      token: bearerToken(request.headers.authorization),
      isAdminKey: (token) => secretsEqual(token, options.adminKey),
    });

  registerHealthRoutes(app, options.registry, nowMs);
  // Agents' routes check their own credentials (join token, node credential).
  registerMembershipRoutes(app, options.membership);
  registerModelStoreRoutes(app, {
    store: options.models,
    requireAdmin,
    requireAdminOrNode,
    uploads: longUploads,
    uploadIdleMs: options.httpLimits.bodyTimeoutMs,
    nowMs,
  });
  registerMetricsRoutes(app, { metrics: options.metrics, adminKey: options.adminKey, metricsKey: options.metricsKey });
  void app.register((v1, _opts, done) => {
    v1.addHook("onRequest", requireClientKey);
    registerOpenAIRoutes(v1, { registry: options.registry, dispatcher: options.dispatcher, continueOnFailure: options.continueOnFailure, maxTokensLimit: options.maxTokensLimit, nowMs });
    registerJobRoutes(v1, {
      jobs: options.jobs,
      callerOf: callerOfRequest,
      webhooks: options.webhooks,
      pools: poolsKnown,
      otherServedKinds: () => [],
      nowMs,
    });
    const ownerOf = (request: FastifyRequest) => callerOfRequest(request).owner;
    registerWebhookRoutes(v1, { ownerOf, secretFor: (owner) => options.webhooks.secretFor(owner) });
    registerAudioRoutes(v1, { dispatcher: options.dispatcher });
    registerFileRoutes(v1, { files: options.batches.files, ownerOf });
    registerBatchRoutes(v1, { files: options.batches.files, batches: options.batches.batches, ownerOf });
    done();
  });
  // MCP hosts (docs/adr/0031) take the same client keys as /v1.
  void app.register((mcp, _opts, done) => {
    mcp.addHook("onRequest", requireClientKey);
    registerMcpRoutes(mcp, { registry: options.registry, router: options.router, dispatcher: options.dispatcher, queue: () => options.dispatchState.queue(), continueOnFailure: options.continueOnFailure, maxTokensLimit: options.maxTokensLimit, nowMs });
    done();
  });
  // The seed's POST /generate and GET /queue-status (docs/adr/0038) take the same client keys as /v1.
  void app.register((seed, _opts, done) => {
    seed.addHook("onRequest", requireClientKey);
    registerSeedRoutes(seed, { jobs: options.jobs, registry: options.registry, ownerOf: (request) => callerOfRequest(request).owner, pools: poolsKnown, nowMs });
    done();
  });
  registerOllamaRoutes(app, { registry: options.registry, dispatcher: options.dispatcher, continueOnFailure: options.continueOnFailure, maxTokensLimit: options.maxTokensLimit, requireClientKey, nowMs });
  // Running a query is what client keys are for; the rest of /cluster is admin-only.
  void app.register((execute, _opts, done) => {
    execute.addHook("onRequest", requireClientKey);
    registerExecuteRoutes(execute, {
      dispatcher: options.dispatcher,
      conversations: options.conversations,
      conversationTtlMs: options.conversationTtlMs,
      callerOf: callerOfRequest,
      nowMs,
    });
    done();
  });
  void app.register((cluster, _opts, done) => {
    cluster.addHook("onRequest", requireAdmin);
    registerClusterRoutes(cluster, { registry: options.registry, membership: options.membership, agentless: options.agentless, owners: options.owners, apiKeys: options.apiKeys, discovered: options.discovered, dispatch: options.dispatchState, servesPool: (node) => options.pools.effectivePool(node), nowMs });
    registerNodeTestRoutes(cluster, options.registry, nowMs);
    registerRouteExplainRoutes(cluster, options.router);
    registerPoolRoutes(cluster, options.roamers);
    done();
  });

  return app;
}

function unauthorized(token: string | undefined): FlotillaError {
  return new FlotillaError(
    "invalid_api_key",
    token === undefined ? "an API key is required: send `Authorization: Bearer <key>`" : "the API key is not valid",
  );
}
