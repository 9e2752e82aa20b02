// The routing half of the coordinator, importable alone as
// @flotilla/coordinator/routing: the router, the registry it reads, the
// circuits it skips and the classifier it plans with, without Fastify,
// undici and SQLite. What the in-process routing benchmark
// (bench/routing-cost.ts, classify-cost.ts) drives; it goes through the
// package's exports, not into src/, so these files can move (docs/adr/0015).
export { NodeRegistry } from "./nodes/node-registry.ts";
export { Router, type RouterOptions, type RouteHints } from "./router/router.ts";
export type { RouteRequest } from "./router/route.ts";
export type { RouteDecision } from "./router/decision.ts";
export { routeReason } from "./router/explain-text.ts";
export { CircuitBook, DEFAULT_CIRCUIT_POLICY, type CircuitPolicy } from "./dispatch/circuit-breaker.ts";
export { testNode, type NodeSpec } from "./router/test-nodes.ts";
export { classifierInputOf, heuristicClassifier, type ClassifierInput } from "./router/classify.ts";
