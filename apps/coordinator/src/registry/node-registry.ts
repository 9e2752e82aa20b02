// The nodes this coordinator can send work to. With `flotilla up` that is the
// in-process agent; remote agents and agentless servers join it later.
import type { InferenceNode, ModelDescriptor, NodeStatus } from "@flotilla/protocol";

export class NodeRegistry {
  readonly #nodes = new Map<string, InferenceNode>();

  add(node: InferenceNode): void {
    if (this.#nodes.has(node.name)) throw new Error(`a node named "${node.name}" is already registered`);
    this.#nodes.set(node.name, node);
  }

  get(name: string): InferenceNode | undefined {
    return this.#nodes.get(name);
  }

  statuses(): NodeStatus[] {
    return [...this.#nodes.values()].map((n) => n.status());
  }

  /** Every model some node serves, once, with the largest context offered. */
  models(): ModelDescriptor[] {
    const byId = new Map<string, ModelDescriptor>();
    for (const status of this.statuses()) {
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
