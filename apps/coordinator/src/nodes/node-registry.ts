// The nodes this coordinator can send work to. With `flotilla up` that is the
// in-process agent; remote agents and agentless servers join it later.
import type { InferenceNode, ModelDescriptor, NodeStatus } from "@flotilla/protocol";

export class NodeRegistry {
  readonly #nodes = new Map<string, InferenceNode>();
  #version = 0;

  /** Moves on every add and remove, so caches of the node list know when to rebuild. */
  get version(): number {
    return this.#version;
  }

  add(node: InferenceNode): void {
    if (this.#nodes.has(node.name)) throw new Error(`a node named "${node.name}" is already registered`);
    this.#nodes.set(node.name, node);
    this.#version += 1;
  }

  remove(name: string): boolean {
    const removed = this.#nodes.delete(name);
    if (removed) this.#version += 1;
    return removed;
  }

  get(name: string): InferenceNode | undefined {
    return this.#nodes.get(name);
  }

  statuses(nowMs: number): NodeStatus[] {
    return [...this.#nodes.values()].map((n) => n.status(nowMs));
  }

  /** Every model some node serves, once, with the largest context offered. */
  models(nowMs: number): ModelDescriptor[] {
    const byId = new Map<string, ModelDescriptor>();
    for (const status of this.statuses(nowMs)) {
      if (status.health === "down") continue;
      for (const m of status.models) {
        const seen = byId.get(m.id);
        if (!seen || m.contextSize > seen.contextSize) {
          byId.set(m.id, { id: m.id, contextSize: m.contextSize, loadedAtMs: seen?.loadedAtMs ?? m.loadedAtMs });
        }
      }
    }
    return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
