// The coordinator's durable state. The embedded SQLite store serves one
// machine; a Redis store will implement the same interface for clusters with
// several coordinators (DESIGN.md), checked by one conformance suite.

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

  /** Inserts the node, or replaces the one with the same name (a re-join). */
  putNode(record: NodeRecord): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  setNodeDrained(name: string, drained: boolean): Promise<boolean>;
  setNodeHardware(name: string, hardwareJson: string): Promise<void>;
  removeNode(name: string): Promise<boolean>;

  close(): Promise<void>;
}
