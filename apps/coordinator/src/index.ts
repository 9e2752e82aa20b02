// The coordinator as a library: `flotilla up` and `flotilla coordinator` both
// build it here; tests build it in-process. It starts in stages, each built
// only from the ones before: (a) the state it decides on (coordinator-state.ts),
// (b) the parts that decide (decision-parts.ts), (c) the HTTP app, (d) the
// background services, which close() stops again through one ServiceGroup.
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { DEFAULT_MAX_TOKENS_LIMIT, isSpeechJobKind } from "@flotilla/protocol";
import { alreadyOpen, ServiceGroup, type Service } from "@flotilla/lifecycle";
import { DEFAULT_FAILURE_LIMIT } from "@flotilla/security/failure-limiter";
import { DEFAULT_HTTP_LIMITS } from "@flotilla/security/http-limits";
import type { NodeRegistry } from "./nodes/node-registry.ts";
import type { LocalNodes } from "./nodes/local/local-nodes.ts";
import { buildGateway } from "./app.ts";
import { DEFAULT_CONVERSATION_TTL_MS } from "./api/conversation-retention.ts";
import type { CoordinatorOptions } from "./coordinator-options.ts";
import { prepareState, type CoordinatorState } from "./coordinator-state.ts";
import { buildDecisionParts, type DecisionParts } from "./decision-parts.ts";
import { JobService } from "./jobs/job-service.ts";
import { observeJobs } from "./metrics/job-metrics.ts";
import { planTextJob } from "./gateway/jobs/text-job-plan.ts";
import { planSpeechJob } from "./gateway/jobs/speech-job-plan.ts";
import type { FileStore } from "./jobs/files/file-store.ts";
import { OpenAIBatches } from "./jobs/batches/openai-batches.ts";
import { fileLimitsFromEnv } from "./jobs/files/file-limits.ts";
import { WebhookService } from "./jobs/webhooks/webhook-service.ts";
import { jobView } from "./gateway/jobs/job-view.ts";
import { loadOrCreateSecretFile } from "./auth/secret-file.ts";
import { PoolBook } from "./pools/pool-book.ts";
import { RoamerController } from "./pools/roamer-controller.ts";
import { roamerSettings } from "./config/cluster-file-pools.ts";
import { ModelStore } from "./models/model-store.ts";

export type { CoordinatorOptions } from "./coordinator-options.ts";
export { NodeRegistry } from "./nodes/node-registry.ts";
export { LocalNodes } from "./nodes/local/local-nodes.ts";
export { MdnsCoordinator, type DiscoveredAgent } from "./discovery/mdns-coordinator.ts";
export { ADMIN_KEY_FILE, readAdminKey } from "./auth/admin-key.ts";

export interface Coordinator {
  app: FastifyInstance;
  registry: NodeRegistry;
  /** Where `flotilla up` adds the agent of its own process. */
  local: LocalNodes;
  /** Stops the services, latest first; every one is stopped even if another fails. Idempotent. */
  close(): Promise<void>;
}

export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const state = await prepareState(options);
  const pools = new PoolBook({ pools: options.pools?.pools ?? {}, templates: options.pools?.templates ?? {} });
  const parts = buildDecisionParts(state.registry, options.routing ?? {}, pools);
  const services = new ServiceGroup();
  let jobs: JobService;
  try {
    jobs = await openJobs(parts, pools, options, () => batches.files);
  } catch (err) {
    await Promise.allSettled([state.store.close(), state.connections.close()]);
    await state.dataDirLock.release();
    throw err;
  }
  // Files and batches (docs/adr/0037) and webhooks (docs/adr/0036): over the job queue, so opened after it.
  let webhooks: WebhookService | undefined;
  let batches: OpenAIBatches;
  // Model files for agents (docs/adr/0042): nothing to close, it holds no open file between requests.
  let models: ModelStore;
  try {
    webhooks = await openWebhooks(state, jobs, options);
    batches = await OpenAIBatches.open({ dataDir: options.dataDir, queue: jobs.queue, log: options.logger, fileLimits: fileLimitsFromEnv(options.env ?? process.env) });
    models = await ModelStore.open(path.join(options.dataDir, "model-store"), options.logger);
  } catch (err) {
    // Not started: stop() only closes webhooks.db.
    await Promise.allSettled([webhooks?.stop(), jobs.queue.close(), state.store.close(), state.connections.close()]);
    await state.dataDirLock.release();
    throw err;
  }
  const roamers = roamerController(state, parts, pools, jobs, options);
  parts.metrics.pools.readFrom(roamers);
  // Not listening yet: the caller chooses the address (tests use inject()).
  const app = gatewayOf(state, parts, { jobs, batches, webhooks, pools, roamers, models }, options);
  // In the order each may use the ones before it; stopped in reverse.
  await services.start([
    // First, so that it is released last, once nothing writes any more.
    alreadyOpen("data directory lock", () => state.dataDirLock.release()),
    alreadyOpen("store", () => state.store.close()),
    alreadyOpen("node connections", () => state.connections.close()),
    state.agentless.healthChecks,
    // After the node connections (the runner dispatches over them), before the
    // HTTP app: stopping it aborts what runs, and event streams end with the app.
    ...jobs.services(options.logger),
    jobMetricsService(jobs, parts),
    // Follows the queue's changes and sends over the node connections: stopped before either goes.
    webhooks,
    // After the queue, so a batch's service stops before the queue it follows closes.
    ...batches.services(),
    // After the file store and the webhooks their jobs use, so the runners stop first.
    ...jobs.workers(),
    // Reads the queue and the busy queue, asks agents over the node connections.
    roamers,
    alreadyOpen("HTTP app", () => app.close()),
    // Last, so that it stops first: the requests waiting in it are turned
    // away at once, rather than holding app.close() for up to maxWaitMs.
    alreadyOpen("busy queue", () => parts.queue.close()),
  ]);
  return { app, registry: state.registry, local: state.local, close: () => services.stop() };
}
// The configuration half, also importable alone as @flotilla/coordinator/config.
export * from "./config/public.ts";

/**
 * Start-up stage (b'): the job queue and the runner of text and speech jobs,
 * which dispatches as /v1 does. `files` is asked only when a speech job runs,
 * which is after the file store is open.
 */
function openJobs(parts: DecisionParts, pools: PoolBook, options: CoordinatorOptions, files: () => FileStore): Promise<JobService> {
  const maxTokensLimit = options.maxTokensLimit ?? DEFAULT_MAX_TOKENS_LIMIT;
  const continueOnFailure = options.routing?.continueOnFailure ?? false;
  return JobService.open(options.jobs ?? {}, {
    dataDir: options.dataDir,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    dispatcher: parts.dispatcher,
    plan: (job) =>
      isSpeechJobKind(job.kind)
        ? planSpeechJob({ ...job, kind: job.kind }, files())
        : planTextJob(job, { maxTokensLimit, continueOnFailure, nowMs: Date.now }),
    // The router's snapshot answers it: the lease loops ask at every pump.
    speechServed: (kind) => parts.router.serves(kind === "speech" ? "tts" : "stt"),
    declaredPoolOf: (kind) => pools.poolForKind(kind),
    log: options.logger,
  });
}

/** The roamers (docs/adr/0040): lent where a declared pool's jobs and waiting requests pile up. */
function roamerController(state: CoordinatorState, parts: DecisionParts, pools: PoolBook, jobs: JobService, options: CoordinatorOptions): RoamerController {
  return new RoamerController({
    nodes: () => state.registry.statuses(Date.now()),
    book: pools,
    agents: state.membership,
    demand: async (pool) => {
      const counts = await jobs.queue.counts(pool);
      return { queuedJobs: counts.queued, runningJobs: counts.leased + counts.running, waitingRequests: parts.queue.depthOf(pool) };
    },
    inFlight: (node) => parts.router.inFlight(node),
    settings: options.pools?.roamers ?? roamerSettings.parse({}),
    log: options.logger,
  });
}

/** Webhooks for finished jobs, signed with secrets derived from webhook.key, to URLs the node URL policy allows. */
async function openWebhooks(state: CoordinatorState, jobs: JobService, options: CoordinatorOptions): Promise<WebhookService> {
  const masterKey = await loadOrCreateSecretFile(options.dataDir, "webhook.key", "webhook");
  return new WebhookService({
    file: path.join(options.dataDir, "webhooks.db"),
    queue: jobs.queue,
    masterKey,
    dispatcher: state.connections,
    checkUrl: state.checkUrlNow,
    // What GET /v1/jobs/:id shows of a finished job.
    render: (job) =>
      Promise.resolve(
        jobView(job, {
          position: null,
          pace: jobs.runner.pace(job.pool),
          concurrency: jobs.runner.concurrency,
          nodes: jobs.nodesOf(job),
          servedKinds: new Set(jobs.servedKinds()),
          nowMs: Date.now(),
        }),
      ),
    log: options.logger,
  });
}

/** The queue's counts and timings in /metrics, from its changes while it is open. */
function jobMetricsService(jobs: JobService, parts: DecisionParts): Service {
  let stop: (() => void) | undefined;
  return {
    name: "job metrics",
    start: () => {
      stop = observeJobs(jobs.queue, parts.metrics.jobs, () => jobs.pools.list());
    },
    stop: () => {
      stop?.();
      return Promise.resolve();
    },
  };
}

/** Start-up stage (c): the HTTP app over the state and the decision parts. */
function gatewayOf(
  state: CoordinatorState,
  parts: DecisionParts,
  { jobs, batches, webhooks, pools, roamers, models }: { jobs: JobService; batches: OpenAIBatches; webhooks: WebhookService; pools: PoolBook; roamers: RoamerController; models: ModelStore },
  options: CoordinatorOptions,
): FastifyInstance {
  const { registry, membership, agentless, local } = state;
  const { circuits, router, queue, queuePolicy } = parts;
  return buildGateway({
    registry,
    membership,
    agentless,
    jobs,
    pools,
    roamers,
    models,
    batches,
    webhooks,
    owners: { local, agent: membership, openai: agentless, ollama: agentless },
    apiKeys: state.apiKeys,
    adminKey: state.adminKey,
    bodyLimitBytes: options.bodyLimitBytes,
    httpLimits: { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits },
    authFailureLimit: { ...DEFAULT_FAILURE_LIMIT, ...options.authFailureLimit },
    logger: options.logger,
    discovered: options.discovered ?? (() => []),
    router,
    dispatcher: parts.dispatcher,
    continueOnFailure: options.routing?.continueOnFailure ?? false,
    maxTokensLimit: options.maxTokensLimit ?? DEFAULT_MAX_TOKENS_LIMIT,
    metrics: parts.metrics,
    metricsKey: options.metricsKey,
    conversations: state.store.conversations,
    conversationTtlMs: options.conversationTtlMs ?? DEFAULT_CONVERSATION_TTL_MS,
    dispatchState: {
      circuit: (name, now) => circuits.view(name, now),
      inFlight: (name) => router.inFlight(name),
      queue: () => ({ depth: queue.depth, maxDepth: queuePolicy.maxDepth, maxWaitMs: queuePolicy.maxWaitMs }),
    },
  });
}
