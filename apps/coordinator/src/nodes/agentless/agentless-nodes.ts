// The agentless nodes of the cluster: those the cluster file declares and
// those added through the API (`flotilla cluster add`), which the store keeps
// across restarts. The file is the truth for its own nodes: the API cannot
// remove them (the next start would bring them back) and their drain lasts
// until restart, since the coordinator never rewrites the user's file.
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { FlotillaError, nodeName, type NodeStatus } from "@flotilla/protocol";
import type { AgentlessNodeRecord, AgentlessNodeRecords } from "../../store/agentless-node-records.ts";
import type { NodeRegistry } from "../node-registry.ts";
import type { HealthPolicy } from "../node-health.ts";
import { AgentlessNode, type AgentlessNodeSpec } from "./agentless-node.ts";
import { clusterNode, tokenFromEnv, type ClusterNode } from "../../config/cluster-file.ts";
import { ConfigError } from "../../config/load-config-file.ts";
import { apiKeyEnvProblem } from "../../config/api-key-env.ts";
import { AgentlessProber } from "./agentless-prober.ts";
import type { Service } from "@flotilla/lifecycle";

/** POST /cluster/nodes: a cluster-file node whose name may be left to default. */
export const addNodeBody = clusterNode.extend({ name: nodeName.optional() });
export type AddNodeInput = z.output<typeof addNodeBody>;

export interface AgentlessNodesOptions {
  /** The nodes added through the API; the file's nodes are never stored. */
  records: AgentlessNodeRecords;
  registry: NodeRegistry;
  policy: HealthPolicy;
  dispatcher: Dispatcher;
  /** Resolves a reason when a node URL must not be called, else null. */
  checkUrl: (url: string) => Promise<string | null>;
  /** Where an API-added node's apiKeyEnv is looked up. */
  env: NodeJS.ProcessEnv;
  /** The only variable names an apiKeyEnv may have (the cluster file's apiKeyEnvPrefixes). */
  apiKeyEnvPrefixes: readonly string[];
  nowMs: () => number;
  /** Start-up findings a person should see; never given a token. */
  warn: (message: string) => void;
}

/** `host-port` from a URL, made into a valid node name: `192.168.1.20-11434`. */
export function defaultNodeName(url: URL): string {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const name = `${host}-${port}`
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 63);
  return name === "" ? "node" : name;
}

export class AgentlessNodes {
  readonly #o: AgentlessNodesOptions;
  readonly #nodes = new Map<string, AgentlessNode>();
  readonly #prober: AgentlessProber;

  private constructor(options: AgentlessNodesOptions) {
    this.#o = options;
    this.#prober = new AgentlessProber({ intervalMs: options.policy.heartbeatIntervalMs, nodes: () => this.#nodes.values() });
  }

  /**
   * Registers the file's nodes, then the stored ones; `healthChecks` starts
   * checking them. Load after the agents: a file node named like a joined
   * agent is a configuration error, not a silent replacement.
   */
  static async load(options: AgentlessNodesOptions, fileNodes: readonly ClusterNode[]): Promise<AgentlessNodes> {
    const nodes = new AgentlessNodes(options);
    fileNodes.forEach((node, i) => {
      if (options.registry.get(node.name)) {
        throw new ConfigError(
          `nodes[${i}].name: "${node.name}" is already the name of a joined agent; rename the node or run \`flotilla cluster remove ${node.name}\``,
        );
      }
    });
    for (const node of fileNodes) nodes.#admit(specOf(node, node.apiKey), { origin: "file", drained: false });
    for (const record of await options.records.list()) {
      if (nodes.#nodes.has(record.name)) {
        await options.records.remove(record.name);
        options.warn(`the cluster file now declares ${record.name}; the node of that name added through the API is forgotten`);
        continue;
      }
      const token = nodes.#token(record.apiKeyEnv);
      if (token.missing) options.warn(`node ${record.name}: ${token.missing}`);
      nodes.#admit(specOf(record, token.value), { origin: "api", drained: record.drained, unusable: token.missing });
    }
    return nodes;
  }

  get(name: string): AgentlessNode | undefined {
    return this.#nodes.get(name);
  }

  /** Validates, stores and registers a node, then checks it once so the answer says whether it is up. */
  async add(input: AddNodeInput): Promise<NodeStatus> {
    const refused = await this.#o.checkUrl(input.url);
    if (refused !== null) throw new FlotillaError("invalid_request", `url refused: ${refused}`, { param: "url" });
    const name = input.name ?? defaultNodeName(new URL(input.url));
    const token = this.#token(input.apiKeyEnv ?? null);
    if (token.missing) throw new FlotillaError("invalid_request", `apiKeyEnv: ${token.missing}`, { param: "apiKeyEnv" });
    const record: AgentlessNodeRecord = {
      name,
      url: input.url,
      kind: input.kind,
      tier: input.tier,
      pool: input.pool,
      models: input.models,
      weight: input.weight,
      labels: input.labels,
      apiKeyEnv: input.apiKeyEnv ?? null,
      drained: false,
      addedAtMs: this.#o.nowMs(),
    };
    if (this.#o.registry.get(name) || !(await this.#o.records.add(record))) {
      throw new FlotillaError("conflict", `a node named ${name} already exists; choose another name`, { param: "name" });
    }
    const node = this.#admit(specOf(record, token.value), { origin: "api", drained: false });
    await this.#prober.probe(node);
    return node.status(this.#o.nowMs());
  }

  async remove(name: string): Promise<void> {
    const node = this.#require(name);
    if (node.origin === "file") {
      throw new FlotillaError("invalid_request", `${name} is declared in the cluster file: remove it there and restart the coordinator`, {
        param: "name",
      });
    }
    await this.#o.records.remove(name);
    this.#nodes.delete(name);
    this.#o.registry.remove(name);
  }

  async setDrained(name: string, drained: boolean): Promise<void> {
    const node = this.#require(name);
    if (node.origin === "api") await this.#o.records.setDrained(name, drained);
    node.drained = drained;
  }

  /**
   * The periodic health checks of these nodes, for the coordinator to start
   * with its other services; its stop waits for the checks in flight. A node
   * added through the API is checked once at once either way.
   */
  get healthChecks(): Service {
    return this.#prober;
  }

  #admit(spec: AgentlessNodeSpec, how: { origin: "file" | "api"; drained: boolean; unusable?: string | undefined }): AgentlessNode {
    const node = new AgentlessNode(spec, {
      origin: how.origin,
      drained: how.drained,
      ...(how.unusable === undefined ? {} : { unusable: how.unusable }),
      policy: this.#o.policy,
      dispatcher: this.#o.dispatcher,
      nowMs: this.#o.nowMs,
    });
    this.#o.registry.add(node);
    this.#nodes.set(spec.name, node);
    return node;
  }

  #require(name: string): AgentlessNode {
    const node = this.#nodes.get(name);
    if (!node) throw new FlotillaError("not_found", `no node is named ${name}`, { param: "name" });
    return node;
  }

  /**
   * The token an apiKeyEnv names, read from the coordinator's environment. A
   * stored node whose name lost its permission (the prefixes changed) is kept
   * but unusable, so its variable is never sent anywhere.
   */
  #token(apiKeyEnv: string | null): { value: string | undefined; missing?: string } {
    if (apiKeyEnv === null) return { value: undefined };
    const refused = apiKeyEnvProblem(apiKeyEnv, this.#o.apiKeyEnvPrefixes);
    if (refused !== null) return { value: undefined, missing: refused };
    const value = tokenFromEnv(this.#o.env, apiKeyEnv);
    if (value !== undefined) return { value };
    return { value: undefined, missing: `environment variable ${apiKeyEnv} is not set on the coordinator; the node needs it for its token` };
  }
}

function specOf(record: Omit<AgentlessNodeSpec, "apiKey">, apiKey: string | undefined): AgentlessNodeSpec {
  return {
    name: record.name,
    url: record.url,
    kind: record.kind,
    tier: record.tier,
    pool: record.pool,
    models: record.models,
    weight: record.weight,
    labels: record.labels,
    apiKey,
    ...(record.speech === undefined ? {} : { speech: record.speech }),
  };
}
