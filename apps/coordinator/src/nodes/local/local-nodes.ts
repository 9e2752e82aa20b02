// The node(s) in this very process (`flotilla up`): the agent handed to the
// coordinator as an object. Drain is kept in memory (a restart starts
// undrained, as the process is the node); removal is refused, since the
// process cannot leave itself.
import { FlotillaError, type WorkloadHost } from "@flotilla/protocol";
import type { NodeRegistry } from "../node-registry.ts";
import type { NodeOwner } from "../node-owner.ts";
import { LocalNode, type LocalNodeOptions } from "./local-node.ts";

export class LocalNodes implements NodeOwner {
  readonly #registry: NodeRegistry;
  readonly #nodes = new Map<string, LocalNode>();

  constructor(registry: NodeRegistry) {
    this.#registry = registry;
  }

  add(host: WorkloadHost, options: LocalNodeOptions): LocalNode {
    const node = new LocalNode(host, options);
    this.#registry.add(node);
    this.#nodes.set(node.name, node);
    return node;
  }

  setDrained(name: string, drained: boolean): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node) return Promise.reject(new FlotillaError("not_found", `no node is named ${name}`, { param: "name" }));
    node.drained = drained;
    return Promise.resolve();
  }

  remove(name: string): Promise<void> {
    return Promise.reject(new FlotillaError("invalid_request", `${name} is this process's own node; drain it instead`, { param: "name" }));
  }
}
