// Start-up stage (b): the parts that decide where each request goes and what
// happens when a node fails (circuits, busy queue, router, dispatcher) and
// the metrics that watch them. Built in the order they depend on each other.
// Two calls go back to a part built later. A request leaving the queue is
// counted by the metrics. The model classifier inside the router asks its
// question through the dispatcher, which is built from the router. Those two
// go through a BoundLater, bound at the end of this function, so the cycle
// is written down here instead of hiding in closures over later `const`s.
import { generationResultOf, nodeStateOf, slotsOf } from "@flotilla/protocol";
import type { NodeRegistry } from "./nodes/node-registry.ts";
import { Router } from "./router/router.ts";
import { ModelClassifier } from "./router/model-classifier.ts";
import { CircuitBook, DEFAULT_CIRCUIT_POLICY } from "./dispatch/circuit-breaker.ts";
import { RetryBudget, DEFAULT_RETRY_BUDGET } from "./dispatch/retry-budget.ts";
import { BusyQueue, DEFAULT_BUSY_QUEUE, type BusyQueuePolicy } from "./dispatch/busy-queue.ts";
import { timeoutPolicy } from "./dispatch/timeouts.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import type { GenerationDispatcher } from "./dispatch/types.ts";
import { GatewayMetrics, type NodeMetricsView } from "./metrics/gateway-metrics.ts";
import type { CoordinatorOptions } from "./coordinator-options.ts";
import { BoundLater } from "./bound-later.ts";
import type { PoolBook } from "./pools/pool-book.ts";

export interface DecisionParts {
  circuits: CircuitBook;
  queuePolicy: BusyQueuePolicy;
  queue: BusyQueue;
  router: Router;
  dispatcher: Dispatcher;
  metrics: GatewayMetrics;
}

type Routing = NonNullable<CoordinatorOptions["routing"]>;

export function buildDecisionParts(registry: NodeRegistry, routing: Routing, pools: PoolBook): DecisionParts {
  const laterMetrics = new BoundLater<GatewayMetrics>("the metrics");
  const laterDispatcher = new BoundLater<GenerationDispatcher>("the dispatcher");
  const circuits = new CircuitBook({ ...DEFAULT_CIRCUIT_POLICY, ...routing.circuit });
  const queuePolicy = { ...DEFAULT_BUSY_QUEUE, ...routing.queue };
  const queue = new BusyQueue(queuePolicy, Date.now, (waitedMs, exit) => laterMetrics.get().dequeued(waitedMs / 1000, exit));
  const router = new Router(registry, {
    nowMs: Date.now,
    ...(routing.classifier === undefined ? {} : { classifier: modelClassifier(routing.classifier, laterDispatcher) }),
    ...(routing.defaultModel === undefined ? {} : { defaultModel: routing.defaultModel }),
    preferLocal: routing.preferLocal ?? false,
    circuits,
    pools,
    onRelease: () => queue.offer(),
  });
  const metrics = new GatewayMetrics({ nodes: () => nodeMetricsViews(registry, circuits, router), queueDepth: () => queue.depth });
  const dispatcher = new Dispatcher({
    registry,
    router,
    circuits,
    budget: new RetryBudget({ ...DEFAULT_RETRY_BUDGET, ...routing.retryBudget }),
    queue,
    timeouts: timeoutPolicy(routing.timeouts),
    observer: metrics,
    nowMs: Date.now,
  });
  laterMetrics.bind(metrics);
  laterDispatcher.bind(dispatcher);
  return { circuits, queuePolicy, queue, router, dispatcher, metrics };
}

/** Every node as /metrics shows it, read at scrape time. */
function nodeMetricsViews(registry: NodeRegistry, circuits: CircuitBook, router: Router): NodeMetricsView[] {
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
}

/**
 * The model-backed classifier: its question goes through the dispatcher (so
 * it gets timeouts and retries), to tier 0 only, with a fixed class so that
 * classifying it does not recurse.
 */
function modelClassifier(options: { model: string; timeoutMs?: number | undefined }, dispatcher: BoundLater<GenerationDispatcher>): ModelClassifier {
  return new ModelClassifier({
    model: options.model,
    timeoutMs: options.timeoutMs ?? 2_000,
    ask: async (prompt, signal) => {
      const answer = await dispatcher.get().run({
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
