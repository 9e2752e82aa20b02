// The coordinator as a library: `flotilla up` and `flotilla coordinator` both
// build it here; tests build it in-process. It starts in stages, each built
// only from the ones before: (a) the state it decides on (coordinator-state.ts),
// (b) the parts that decide (decision-parts.ts), (c) the HTTP app, (d) the
// background services, which close() stops again through one ServiceGroup.
import type { FastifyInstance } from "fastify";
import { DEFAULT_MAX_TOKENS_LIMIT } from "@flotilla/protocol";
import { alreadyOpen, ServiceGroup } from "@flotilla/lifecycle";
import { DEFAULT_FAILURE_LIMIT } from "@flotilla/security/failure-limiter";
import { DEFAULT_HTTP_LIMITS } from "@flotilla/security/http-limits";
import type { NodeRegistry } from "./nodes/node-registry.ts";
import type { LocalNodes } from "./nodes/local/local-nodes.ts";
import { buildGateway } from "./app.ts";
import { DEFAULT_CONVERSATION_TTL_MS } from "./api/conversation-retention.ts";
import type { CoordinatorOptions } from "./coordinator-options.ts";
import { prepareState, type CoordinatorState } from "./coordinator-state.ts";
import { buildDecisionParts, type DecisionParts } from "./decision-parts.ts";

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
  const parts = buildDecisionParts(state.registry, options.routing ?? {});
  // Not listening yet: the caller chooses the address (tests use inject()).
  const app = gatewayOf(state, parts, options);
  const services = new ServiceGroup();
  // In the order each may use the ones before it; stopped in reverse.
  await services.start([
    // First, so that it is released last, once nothing writes any more.
    alreadyOpen("data directory lock", () => state.dataDirLock.release()),
    alreadyOpen("store", () => state.store.close()),
    alreadyOpen("node connections", () => state.connections.close()),
    state.agentless.healthChecks,
    alreadyOpen("HTTP app", () => app.close()),
    // Last, so that it stops first: the requests waiting in it are turned
    // away at once, rather than holding app.close() for up to maxWaitMs.
    alreadyOpen("busy queue", () => parts.queue.close()),
  ]);
  return { app, registry: state.registry, local: state.local, close: () => services.stop() };
}
// The configuration half, also importable alone as @flotilla/coordinator/config.
export * from "./config/public.ts";

/** Start-up stage (c): the HTTP app over the state and the decision parts. */
function gatewayOf(state: CoordinatorState, parts: DecisionParts, options: CoordinatorOptions): FastifyInstance {
  const { registry, membership, agentless, local } = state;
  const { circuits, router, queue, queuePolicy } = parts;
  return buildGateway({
    registry,
    membership,
    agentless,
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
