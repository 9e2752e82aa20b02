// What the cluster API (`/cluster/...`, admin only) answers. The coordinator
// types its replies with these, so a change on the server that breaks one
// fails type-check; the CLI parses every answer with them instead of trusting
// it, so a coordinator of another version gives a clear error, not a
// TypeError halfway through printing a table.
//
// Unlike the agent protocol, the objects defined here drop keys they do not
// know (zod's default) instead of refusing them: a newer coordinator that
// adds a field still talks to an older CLI. Where they embed agent-protocol
// schemas (servedModel, hardwareInfo) those stay strict, as the agents'
// reports are.
import { z } from "zod";
import { nodeName, poolName, servedModel, tier } from "./cluster.ts";
import { hardwareInfo } from "./hardware.ts";
import { nodeState } from "./node-state.ts";
import { assignmentReport, templateName } from "./assignment.ts";

const count = z.int().min(0);
/** A measured duration: fractional, never negative. */
const durationMs = z.number().min(0);
/** Epoch milliseconds. */
const atMs = z.int().min(0);

/** A node's health as the coordinator judges it (see nodes/node-health.ts). */
export const nodeHealth = z.enum(["ready", "suspect", "down"]);
export type NodeHealth = z.infer<typeof nodeHealth>;

/**
 * local: the agent in this process; agent: a flotilla agent over HTTP;
 * openai / ollama: an agentless server the coordinator health-checks itself.
 */
export const nodeKind = z.enum(["local", "agent", "openai", "ollama"]);
export type NodeKind = z.infer<typeof nodeKind>;

/**
 * How fast a node answers, as the coordinator measured the requests it sent
 * there (nodes/latency.ts): moving averages in milliseconds, null until the
 * first successful request. Queueing on the node counts: it is what a client waits.
 */
export const nodeLatency = z.object({
  /** From sending the request to the first piece of text (or the whole answer when none came first). */
  firstTokenMs: durationMs.nullable(),
  /** From sending the request to the complete answer. */
  totalMs: durationMs.nullable(),
  /** Successful requests measured so far. */
  samples: count,
  /** Agentless nodes: round trip of the health check (the model list), once one succeeded. */
  probeMs: durationMs.optional(),
});
export type NodeLatency = z.infer<typeof nodeLatency>;

/**
 * A node as the coordinator sees it: what every kind of node reports
 * (InferenceNode.status) and what the cluster API shows of it. Built from
 * `servedModel`, so what an agent reports of a model is what a person sees.
 */
export const nodeStatus = z.object({
  name: nodeName,
  kind: nodeKind,
  health: nodeHealth,
  /** Drained nodes finish their work but get no new requests. */
  drained: z.boolean(),
  tier,
  pool: poolName,
  url: z.string().nullable(),
  models: z.array(servedModel),
  inFlight: count,
  hardware: hardwareInfo.nullable(),
  /** Milliseconds since the node was last heard from; null for the local node and before the first answer. */
  lastSeenAgoMs: z.number().nullable(),
  latency: nodeLatency,
  /** Relative share of traffic among equal candidates (agentless nodes declare it). */
  weight: z.number().positive().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  /** Why the last health check failed, while it is failing. */
  error: z.string().optional(),
  /** What the coordinator did not believe of the node's report (models not allowed, slots capped), one line each. */
  limits: z.array(z.string()).max(512).optional(),
  /** Agents: the templates their own configuration lists, and what they run for a pool they are lent to (docs/adr/0040). */
  templates: z.array(templateName).optional(),
  assignment: assignmentReport.nullable().optional(),
});
export type NodeStatus = z.infer<typeof nodeStatus>;

/** The dispatcher's circuit for a node (dispatch/circuit-breaker.ts): why it may be skipped. */
export const circuitView = z.object({
  state: z.enum(["closed", "open", "half-open"]),
  consecutiveFailures: count,
  /** Milliseconds until an open circuit lets a probe through; 0 otherwise. */
  ejectionLeftMs: count,
  /** Times it opened in a row without a success in between. */
  openings: count,
  /** Open because the node itself asked for time (a 429 or 503 with Retry-After), not for failing. */
  pausedByNode: z.boolean(),
});
export type CircuitViewBody = z.infer<typeof circuitView>;

/**
 * A node as `GET /cluster/status`, `GET /cluster/nodes/{name}` and
 * `POST /cluster/nodes` show it: its status, the one word a person reads,
 * and the dispatcher's view of it.
 */
export const presentedNode = nodeStatus.extend({
  /** node-state.ts: one rule for status, metrics, the router and the CLI. */
  state: nodeState,
  circuit: circuitView,
  /** Requests this coordinator has sent the node and not yet seen end. */
  dispatched: count,
  /** The pool whose work it takes now: its own, or for a roamer the one it is lent to (null: an idle roamer). */
  servesPool: poolName.nullable().optional(),
});
export type PresentedNode = z.infer<typeof presentedNode>;

/** An agent seen on the LAN by mDNS that is not a member: listed, never contacted. */
export const discoveredAgent = z.object({
  name: nodeName,
  /** The source of its answer first, then its A/AAAA records. */
  addresses: z.array(z.string()),
  port: z.int().min(1).max(65_535),
  /** The `v` of its TXT record: a different one will not be able to join. */
  protocolVersion: z.string(),
  lastSeenAgoMs: durationMs,
});
export type DiscoveredAgentBody = z.infer<typeof discoveredAgent>;

/** `GET /cluster/status`. */
export const clusterStatusResponse = z.object({
  nodes: z.array(presentedNode),
  totals: z.object({ nodes: count, ready: count, slots: count, inFlight: count }),
  /** The coordinator's busy queue: requests waiting for any node to have a free slot. */
  queue: z.object({ depth: count, maxDepth: count, maxWaitMs: count }),
  discovered: z.array(discoveredAgent),
});
export type ClusterStatusResponse = z.infer<typeof clusterStatusResponse>;

/** `POST /cluster/nodes/{name}/drain` and `/undrain`. */
export const drainResponse = z.object({ name: nodeName, drained: z.boolean() });
export type DrainResponse = z.infer<typeof drainResponse>;

/** `DELETE /cluster/nodes/{name}` and `DELETE /cluster/keys/{id}`: 204, no body. */
export const noContent = z.undefined();

/** What `POST /cluster/nodes/{name}/test` answers (`flotilla cluster test`). */
export const nodeTestResult = z.object({
  node: nodeName,
  model: z.string().min(1),
  /** Until the first piece of text arrived; null when none did. */
  firstTokenMs: durationMs.nullable(),
  totalMs: durationMs,
  completionTokens: count,
  tokensPerSecond: z.number().min(0),
});
export type NodeTestResult = z.infer<typeof nodeTestResult>;

/** `POST /cluster/tokens`: a join token, shown this once. */
export const joinTokenCreated = z.object({
  token: z.string().min(1),
  expiresAtMs: atMs,
  uses: z.int().min(1),
});
export type JoinTokenCreated = z.infer<typeof joinTokenCreated>;

/** A client API key as listed: never the key itself. */
export const apiKeyInfo = z.object({
  id: z.string().min(1),
  name: z.string(),
  /** The first characters of the key, so a user can tell keys apart. */
  prefix: z.string(),
  createdAtMs: atMs,
});
export type ApiKeyInfo = z.infer<typeof apiKeyInfo>;

/** `GET /cluster/keys`. */
export const apiKeyList = z.object({ keys: z.array(apiKeyInfo) });
export type ApiKeyList = z.infer<typeof apiKeyList>;

/** `POST /cluster/keys`: the record and, this once, the key. */
export const apiKeyCreated = apiKeyInfo.extend({ key: z.string().min(1) });
export type ApiKeyCreated = z.infer<typeof apiKeyCreated>;

/**
 * A code the router recorded (a step, or why a node was skipped), with its
 * numbers and names: `{ code: "tier-empty", tier: 0, because: "no-ready-node" }`.
 * The codes are the coordinator's (router/decision.ts) and may grow; read
 * loosely, and show `reason` to people.
 */
const routeCode = z.looseObject({ code: z.string() });

/**
 * `POST /cluster/route`: the router's decision for a request, with every
 * node accounted for. The top level is what a reader relies on; a
 * candidate's `reason` is prose, and candidates may carry more detail than
 * listed here (dropped when parsed), so the router can grow its explanation
 * without breaking readers. `kind`, `unavailable`, `steps`, `verdict` and
 * `because` are the same decision as codes; optional, as a coordinator
 * before them does not send them.
 */
export const routeExplanation = z.object({
  kind: z.enum(["chosen", "unavailable"]).optional(),
  /** Why no node, when kind is unavailable (the HTTP error it becomes: 404, 503, 400, 503, 400). */
  unavailable: z.enum(["unknown-model", "no-healthy-node", "context-too-long", "tier-unavailable", "not-capable"]).optional(),
  class: z.enum(["SIMPLE", "MEDIUM", "COMPLEX"]),
  /** Null (with node and model) when no node can take the request; `reason` says why. */
  tier: tier.nullable(),
  node: z.string().nullable(),
  /** The model id the node would be sent (an alias or "auto" resolved). */
  model: z.string().nullable(),
  /** The steps below in words. */
  reason: z.string(),
  /** What the router did, in order. */
  steps: z.array(routeCode).optional(),
  /** The session's node was kept. */
  affinity: z.boolean(),
  promptTokens: count,
  /** The chosen node first, then the others weighed, best first, then the skipped ones. */
  candidates: z.array(z.object({
    node: z.string(),
    tier,
    score: z.number(),
    reason: z.string(),
    verdict: z.enum(["chosen", "not-chosen", "skipped"]).optional(),
    /** Why it was skipped (down, drained, no-model, context-too-small, excluded, circuit-open…). */
    because: routeCode.optional(),
  })),
});
export type RouteExplanation = z.infer<typeof routeExplanation>;

/**
 * Just enough of an error answer (OpenAI's shape, errors.ts) to show its
 * message: read loosely, since an error from a proxy in between or another
 * version should still be shown rather than refused.
 */
export const errorAnswer = z.object({ error: z.object({ message: z.string() }) });
