// Who keeps each kind of node: drain and removal go to the owner of the
// node's kind (an exhaustive Record, so a new kind cannot be forgotten), and
// each owner persists the change where that kind's records live. The API
// layer never asks what class a node is.
import type { NodeKind } from "@flotilla/protocol";

export interface NodeOwner {
  /** Stop (or resume) giving the node new work; persisted where its record lives. */
  setDrained(name: string, drained: boolean): Promise<void>;
  /** Take the node out of the cluster for good, or refuse saying why it cannot be. */
  remove(name: string): Promise<void>;
}

export type NodeOwners = Readonly<Record<NodeKind, NodeOwner>>;
