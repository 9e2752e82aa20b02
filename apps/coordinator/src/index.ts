// The coordinator as a library: `flotilla up` and `flotilla coordinator` both
// build it here; tests build it in-process.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { Agent as HttpAgent } from "undici";
import { DEFAULT_MAX_TOKENS_LIMIT, generationResultOf, nodeStateOf, slotsOf } from "@flotilla/protocol";
import { NodeRegistry } from "./nodes/node-registry.ts";
import { LocalNodes } from "./nodes/local/local-nodes.ts";
import { SqliteStore } from "./store/sqlite-store.ts";
import { ApiKeys } from "./auth/api-keys.ts";
import { loadOrCreateAdminKey } from "./auth/admin-key.ts";
import { loadOrCreateSecretFile } from "./auth/secret-file.ts";
import { healthPolicy } from "./nodes/node-health.ts";
import { Membership } from "./nodes/agent/membership.ts";
import { AgentlessNodes } from "./nodes/agentless/agentless-nodes.ts";
import { buildGateway } from "./app.ts";
import { Router } from "./router/router.ts";
import type { DiscoveredAgent } from "./discovery/mdns-coordinator.ts";
import { NetworkAllowlist, checkedLookup, resolveAndCheckNodeUrl } from "./config/url-policy.ts";
import type { ClusterFile, ClusterNode } from "./config/cluster-file.ts";
import { CircuitBook, DEFAULT_CIRCUIT_POLICY } from "./dispatch/circuit-breaker.ts";
import { RetryBudget, DEFAULT_RETRY_BUDGET } from "./dispatch/retry-budget.ts";
import { BusyQueue, DEFAULT_BUSY_QUEUE } from "./dispatch/busy-queue.ts";
import { timeoutPolicy } from "./dispatch/timeouts.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { GatewayMetrics, type NodeMetricsView } from "./metrics/gateway-metrics.ts";
import { ModelClassifier } from "./router/model-classifier.ts";
import type { GenerationDispatcher } from "./dispatch/types.ts";

export { NodeRegistry } from "./nodes/node-registry.ts";
export { LocalNodes } from "./nodes/local/local-nodes.ts";
export { MdnsCoordinator, type DiscoveredAgent } from "./discovery/mdns-coordinator.ts";
export { ADMIN_KEY_FILE, readAdminKey } from "./auth/admin-key.ts";

export interface CoordinatorOptions {
  dataDir: string;
  /** FLOTILLA_ADMIN_KEY, when the environment sets it. */
  adminKeyFromEnv: string | undefined;
  bodyLimitBytes: number;
  heartbeatIntervalMs: number;
  /** Networks that node URLs may point into (CIDRs); see config/url-policy.ts. */
  allowedNetworks: readonly string[];
  /** Agentless nodes declared in the cluster file, tokens already read (loadClusterFile). */
  clusterNodes?: readonly ClusterNode[];
  /** Where the token of a node added through the API is read (its apiKeyEnv); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Agents seen on the LAN by mDNS; status lists those that have not joined. */
  discovered?: () => DiscoveredAgent[];
  /** The cluster file's routing section. */
  routing?: Partial<ClusterFile["routing"]>;
  /** FLOTILLA_METRICS_KEY, when the environment sets it: a key that may read /metrics and nothing else. */
  metricsKey?: string | undefined;
  /** A client's max_tokens is capped to this; default DEFAULT_MAX_TOKENS_LIMIT (4096). */
  maxTokensLimit?: number;
  logger: FastifyBaseLogger;
}

export interface Coordinator {
  app: FastifyInstance;
  registry: NodeRegistry;
  /** Where `flotilla up` adds the agent of its own process. */
  local: LocalNodes;
  close(): Promise<void>;
}

export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const store = new SqliteStore(path.join(options.dataDir, "flotilla.db"));
  const apiKeys = await ApiKeys.load(store.apiKeys);
  const adminKey = await loadOrCreateAdminKey(options.dataDir, options.adminKeyFromEnv);
  const clusterSecret = await loadOrCreateSecretFile(options.dataDir, "cluster.key", "cluster");
  const registry = new NodeRegistry();
  const allowlist = NetworkAllowlist.fromCidrs(options.allowedNetworks);
  // One keep-alive pool for every call to nodes. Its lookup re-checks every
  // address a host name resolves to at connect time, so a name that passed at
  // registration cannot later be pointed elsewhere (DNS rebinding).
  const dispatcher = new HttpAgent({
    keepAliveTimeout: 30_000,
    connect: { timeout: 5_000, lookup: checkedLookup(allowlist) },
  });
  /** Null when a node URL may be called, else why not (ADR 0011). */
  const checkUrl = async (url: string): Promise<string | null> => {
    const checked = await resolveAndCheckNodeUrl(url, allowlist);
    return checked.ok ? null : checked.reason;
  };
  const policy = healthPolicy(options.heartbeatIntervalMs);
  const membership = await Membership.load({
    nodes: store.nodes,
    joinTokens: store.joinTokens,
    registry,
    clusterSecret,
    policy,
    dispatcher,
    checkAgentUrl: checkUrl,
    nowMs: Date.now,
  });
  const agentless = await AgentlessNodes.load(
    {
      records: store.agentlessNodes,
      registry,
      policy,
      dispatcher,
      checkUrl,
      env: options.env ?? process.env,
      nowMs: Date.now,
      warn: (message) => options.logger.warn(message),
    },
    options.clusterNodes ?? [],
  );
  const routing = options.routing ?? {};
  const circuits = new CircuitBook({ ...DEFAULT_CIRCUIT_POLICY, ...routing.circuit });
  const nodeViews = (): NodeMetricsView[] => {
    const now = Date.now();
    return registry.statuses(now).map((s) => ({
      name: s.name,
      pool: s.pool,
      tier: s.tier,
      state: nodeStateOf(s),
      circuit: circuits.view(s.name, now).state,
      inFlight: router.inFlight(s.name),
      slots: slotsOf(s),
    }));
  };
  const metrics = new GatewayMetrics({ nodes: nodeViews, queueDepth: () => queue.depth });
  const queuePolicy = { ...DEFAULT_BUSY_QUEUE, ...routing.queue };
  const queue = new BusyQueue(queuePolicy, Date.now, (waitedMs, exit) => metrics.dequeued(waitedMs / 1000, exit));
  const router: Router = new Router(registry, {
    nowMs: Date.now,
    ...(routing.classifier === undefined ? {} : { classifier: modelClassifier(routing.classifier, (): GenerationDispatcher => generations) }),
    ...(routing.defaultModel === undefined ? {} : { defaultModel: routing.defaultModel }),
    preferLocal: routing.preferLocal ?? false,
    circuits,
    onRelease: () => queue.offer(),
  });
  const generations: Dispatcher = new Dispatcher({
    registry,
    router,
    circuits,
    budget: new RetryBudget({ ...DEFAULT_RETRY_BUDGET, ...routing.retryBudget }),
    queue,
    timeouts: timeoutPolicy(routing.timeouts),
    observer: metrics,
    nowMs: Date.now,
  });
  const local = new LocalNodes(registry);
  const app = buildGateway({
    registry,
    membership,
    agentless,
    owners: { local, agent: membership, openai: agentless, ollama: agentless },
    apiKeys,
    adminKey,
    bodyLimitBytes: options.bodyLimitBytes,
    logger: options.logger,
    discovered: options.discovered ?? (() => []),
    router,
    dispatcher: generations,
    continueOnFailure: routing.continueOnFailure ?? false,
    maxTokensLimit: options.maxTokensLimit ?? DEFAULT_MAX_TOKENS_LIMIT,
    metrics,
    metricsKey: options.metricsKey,
    conversations: store.conversations,
    dispatchState: {
      circuit: (name, now) => circuits.view(name, now),
      inFlight: (name) => router.inFlight(name),
      queue: () => ({ depth: queue.depth, maxDepth: queuePolicy.maxDepth, maxWaitMs: queuePolicy.maxWaitMs }),
    },
  });
  return {
    app,
    registry,
    local,
    async close() {
      queue.close();
      await app.close();
      await agentless.close();
      await dispatcher.close();
      await store.close();
    },
  };
}
// The configuration half, also importable alone as @flotilla/coordinator/config.
export * from "./config/public.ts";

/**
 * The model-backed classifier: its question goes through the dispatcher (so
 * it gets timeouts and retries), to tier 0 only, with a fixed class so that
 * classifying it does not recurse. `dispatcher` is late-bound: the router
 * that the dispatcher needs is built with this classifier.
 */
function modelClassifier(options: { model: string; timeoutMs?: number | undefined }, dispatcher: () => GenerationDispatcher): ModelClassifier {
  return new ModelClassifier({
    model: options.model,
    timeoutMs: options.timeoutMs ?? 2_000,
    ask: async (prompt, signal) => {
      const answer = await dispatcher().run({
        workload: {
          model: options.model,
          input: { kind: "chat", messages: [{ role: "user", content: prompt }] },
          params: { maxTokens: 4, temperature: 0, topP: undefined, seed: 0, stop: ["\n"], presencePenalty: undefined, frequencyPenalty: undefined },
        },
        hints: { forceTier: { tier: 0, fallback: false } },
        classification: { class: "SIMPLE", reason: "a question from the model classifier" },
        priority: "high",
        continueOnFailure: false,
        signal,
      });
      return { text: generationResultOf(answer.result).text, node: answer.decision.node };
    },
  });
}
