// The coordinator's durable state. The embedded SQLite store serves one
// machine; a Redis store will implement the same interface for clusters with
// several coordinators (DESIGN.md), checked by one conformance suite.
import type { ChatTurn } from "@flotilla/protocol";

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, so a user can tell keys apart. */
  prefix: string;
  createdAtMs: number;
}

export interface JoinTokenRecord {
  id: string;
  expiresAtMs: number;
  /** How many more agents may join with it. */
  usesLeft: number;
  createdAtMs: number;
}

export interface NodeRecord {
  id: string;
  name: string;
  url: string;
  tier: 0 | 1 | 2;
  pool: string;
  /** sha256 of the credential the agent presents. */
  credentialHash: string;
  hardwareJson: string | null;
  drained: boolean;
  joinedAtMs: number;
}

/** An agentless node added through the cluster API (cluster-file nodes live in the file). */
export interface StaticNodeRecord {
  name: string;
  url: string;
  kind: "openai" | "ollama";
  tier: 0 | 1 | 2;
  pool: string;
  models: string[];
  weight: number;
  labels: Record<string, string>;
  /** The NAME of the environment variable holding its bearer token; the token is never stored. */
  apiKeyEnv: string | null;
  drained: boolean;
  addedAtMs: number;
}

export interface Store {
  /** `hash` is the key's sha256; the key itself is never stored. */
  addApiKey(record: ApiKeyRecord, hash: string): Promise<void>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Resolves false when no key had that id. */
  removeApiKey(id: string): Promise<boolean>;
  apiKeyHashes(): Promise<string[]>;
  addJoinToken(record: JoinTokenRecord, hash: string): Promise<void>;
  /**
   * Spends one use of the token with this hash if it exists, has uses left
   * and has not expired at `nowMs`. Atomic: two agents racing for the last
   * use cannot both win.
   */
  spendJoinToken(hash: string, nowMs: number): Promise<boolean>;
  /** Whether a token could be spent now, without spending it. */
  joinTokenUsable(hash: string, nowMs: number): Promise<boolean>;

  /** Inserts the node, or replaces the one with the same name (a re-join). */
  putNode(record: NodeRecord): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  setNodeDrained(name: string, drained: boolean): Promise<boolean>;
  setNodeHardware(name: string, hardwareJson: string): Promise<void>;
  /** An agent that moved (new address, new port) says so in its heartbeat. */
  setNodeUrl(name: string, url: string): Promise<void>;
  removeNode(name: string): Promise<boolean>;

  /** Resolves false, storing nothing, when a static node already has the name. */
  addStaticNode(record: StaticNodeRecord): Promise<boolean>;
  listStaticNodes(): Promise<StaticNodeRecord[]>;
  setStaticNodeDrained(name: string, drained: boolean): Promise<boolean>;
  removeStaticNode(name: string): Promise<boolean>;

  /**
   * Conversations the coordinator holds for /cluster/execute: nodes are
   * stateless, so the turns live here and are sent whole with each query.
   * Resolves false, storing nothing, when the id is already taken.
   */
  createConversation(id: string, nowMs: number): Promise<boolean>;
  /** The last `limit` turns, oldest first; null when no conversation has the id. */
  conversationTurns(id: string, limit: number): Promise<ChatTurn[] | null>;
  /**
   * Appends the turns after the stored ones, in order, all or none. Resolves
   * false, storing nothing, when no conversation has the id.
   */
  appendTurns(id: string, turns: readonly ChatTurn[], nowMs: number): Promise<boolean>;

  close(): Promise<void>;
}
