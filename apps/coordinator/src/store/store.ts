// The coordinator's durable state, one interface per kind of record so each
// part of the coordinator depends only on what it keeps. The embedded SQLite
// store serves one machine; a Redis store will implement the same interfaces
// for clusters with several coordinators (DESIGN.md), and both must pass
// store-conformance.ts. Every method returns a promise: see docs/adr/0016.
import type { AgentlessNodeRecords } from "./agentless-node-records.ts";
import type { ApiKeyRecords } from "./api-key-records.ts";
import type { Conversations } from "./conversations.ts";
import type { JoinTokens } from "./join-tokens.ts";
import type { NodeRecords } from "./node-records.ts";

export interface Store {
  readonly apiKeys: ApiKeyRecords;
  readonly joinTokens: JoinTokens;
  /** Agents that joined. */
  readonly nodes: NodeRecords;
  readonly agentlessNodes: AgentlessNodeRecords;
  readonly conversations: Conversations;
  close(): Promise<void>;
}
