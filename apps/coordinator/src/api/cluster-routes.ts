// The cluster API: admin credentials only. Nodes and their state, join
// tokens, drain and removal, and the client API keys behind `flotilla keys`.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  FlotillaError,
  holdsLoad,
  nodeName,
  nodeStateOf,
  slotsOf,
  type ApiKeyCreated,
  type ApiKeyList,
  type ClusterStatusResponse,
  type DrainResponse,
  type JoinTokenCreated,
  type NodeStatus,
  type PresentedNode,
} from "@flotilla/protocol";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import type { Membership } from "../nodes/agent/membership.ts";
import { addNodeBody, type AgentlessNodes } from "../nodes/agentless/agentless-nodes.ts";
import type { NodeOwner, NodeOwners } from "../nodes/node-owner.ts";
import type { ApiKeys } from "../auth/api-keys.ts";
import type { DiscoveredAgent } from "../discovery/mdns-coordinator.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";
import type { CircuitView } from "../dispatch/circuit-breaker.ts";

/** The dispatcher's view of the cluster: why a node is skipped, and who waits. */
export interface DispatchState {
  circuit(node: string, nowMs: number): CircuitView;
  /** Requests this coordinator has sent the node and not yet seen end. */
  inFlight(node: string): number;
  queue(): { depth: number; maxDepth: number; maxWaitMs: number };
}

export interface ClusterRoutesOptions {
  registry: NodeRegistry;
  membership: Membership;
  agentless: AgentlessNodes;
  /** Drain and removal, by node kind. */
  owners: NodeOwners;
  apiKeys: ApiKeys;
  discovered: () => DiscoveredAgent[];
  dispatch: DispatchState;
  /** The pool whose work a node takes now (pools/pool-book.ts). */
  servesPool: (node: NodeStatus) => string | null;
  nowMs: () => number;
}

const createKeyBody = z.object({ name: z.string().min(1).max(64).regex(/^[\w .@-]+$/, "letters, digits, space, '.', '_', '@' or '-'") });
const createTokenBody = z.object({
  ttlMs: z.int().min(1_000).max(30 * 24 * 3_600_000).default(15 * 60_000),
  uses: z.int().min(1).max(10_000).default(1),
});
const nameParams = z.object({ name: nodeName });

// Every reply is typed with its schema in @flotilla/protocol (cluster-api.ts),
// which the CLI parses it with: a change here that the CLI would not
// understand fails type-check instead of failing at a user's terminal.

/** What `cluster status` shows: the node, the one word a person reads, and the dispatcher's view of it. */
function present(status: NodeStatus, options: Pick<ClusterRoutesOptions, "dispatch" | "servesPool">, nowMs: number): PresentedNode {
  const { dispatch } = options;
  return { ...status, state: nodeStateOf(status), circuit: dispatch.circuit(status.name, nowMs), dispatched: dispatch.inFlight(status.name), servesPool: options.servesPool(status) };
}

export function registerClusterRoutes(app: FastifyInstance, options: ClusterRoutesOptions): void {
  const { registry, apiKeys, membership, agentless } = options;

  app.get("/cluster/status", (): ClusterStatusResponse => {
    const now = options.nowMs();
    const nodes = registry.statuses(now).map((s) => present(s, options, now));
    const totals = {
      nodes: nodes.length,
      ready: nodes.filter((n) => n.state === "ready").length,
      // A node that is down serves nothing: its slots and last load count nowhere.
      slots: nodes.reduce((sum, n) => sum + (holdsLoad(n.state) ? slotsOf(n) : 0), 0),
      inFlight: nodes.reduce((sum, n) => sum + (holdsLoad(n.state) ? n.inFlight : 0), 0),
    };
    // Seen on the LAN but not members: shown so a person can invite them,
    // never contacted (anyone can announce anything by mDNS).
    const discovered = options
      .discovered()
      .filter((agent) => registry.get(agent.name) === undefined)
      .map(({ lastSeenMs, ...agent }) => ({ ...agent, lastSeenAgoMs: Math.max(0, now - lastSeenMs) }));
    return { nodes, totals, queue: options.dispatch.queue(), discovered };
  });

  app.get("/cluster/nodes/:name", (request): PresentedNode => {
    const { name } = parseBody(nameParams, request.params);
    const node = registry.get(name);
    if (!node) throw new FlotillaError("not_found", `no node is named ${name}`, { param: "name" });
    return present(node.status(options.nowMs()), options, options.nowMs());
  });

  /** The owner of the node's kind: it knows where that kind's records live. */
  const ownerOf = (name: string): NodeOwner => {
    const node = registry.get(name);
    if (!node) throw new FlotillaError("not_found", `no node is named ${name}`, { param: "name" });
    return options.owners[node.status(options.nowMs()).kind];
  };
  const drain = (name: string, drained: boolean) => ownerOf(name).setDrained(name, drained);
  app.post("/cluster/nodes/:name/drain", async (request): Promise<DrainResponse> => {
    const { name } = parseBody(nameParams, request.params);
    await drain(name, true);
    return { name, drained: true };
  });
  app.post("/cluster/nodes/:name/undrain", async (request): Promise<DrainResponse> => {
    const { name } = parseBody(nameParams, request.params);
    await drain(name, false);
    return { name, drained: false };
  });
  app.delete("/cluster/nodes/:name", async (request, reply) => {
    const { name } = parseBody(nameParams, request.params);
    await ownerOf(name).remove(name);
    return reply.code(204).send();
  });
  // An existing server with no agent (`flotilla cluster add URL`): answers
  // with its status after one health check, so the caller sees at once
  // whether it is reachable and what it serves.
  app.post("/cluster/nodes", async (request, reply) => {
    const body = parseBody(addNodeBody, request.body ?? {});
    return reply.code(201).send(present(await agentless.add(body), options, options.nowMs()));
  });

  app.post("/cluster/tokens", async (request, reply) => {
    const body = parseBody(createTokenBody, request.body ?? {});
    const created: JoinTokenCreated = await membership.createJoinToken(body);
    return reply.code(201).send(created);
  });

  app.get("/cluster/keys", async (): Promise<ApiKeyList> => ({ keys: await apiKeys.list() }));

  app.post("/cluster/keys", async (request, reply) => {
    const { name } = parseBody(createKeyBody, request.body ?? {});
    const { record, secret } = await apiKeys.create(name, options.nowMs());
    const created: ApiKeyCreated = { ...record, key: secret };
    return reply.code(201).send(created);
  });

  app.delete<{ Params: { id: string } }>("/cluster/keys/:id", async (request, reply) => {
    if (!(await apiKeys.remove(request.params.id))) {
      throw new FlotillaError("not_found", `no API key has the id ${request.params.id}`, { param: "id" });
    }
    return reply.code(204).send();
  });

  rejectOtherMethods(app, "/cluster/status", ["GET"]);
  rejectOtherMethods(app, "/cluster/nodes", ["POST"]);
  rejectOtherMethods(app, "/cluster/nodes/:name", ["GET", "DELETE"]);
  rejectOtherMethods(app, "/cluster/nodes/:name/drain", ["POST"]);
  rejectOtherMethods(app, "/cluster/nodes/:name/undrain", ["POST"]);
  rejectOtherMethods(app, "/cluster/tokens", ["POST"]);
  rejectOtherMethods(app, "/cluster/keys", ["GET", "POST"]);
  rejectOtherMethods(app, "/cluster/keys/:id", ["DELETE"]);
}
