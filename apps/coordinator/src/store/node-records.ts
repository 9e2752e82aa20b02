// The agents that joined the cluster (nodes/agent/membership.ts). Only durable
// facts live here; load and last heartbeat stay in memory.

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

export interface NodeRecords {
  /**
   * Inserts the node, or replaces the one with the same name (a re-join).
   * Rejects, storing nothing, when a node of another name has its credential hash.
   */
  put(record: NodeRecord): Promise<void>;
  /** Ordered by name. */
  list(): Promise<NodeRecord[]>;
  /** Resolves false when no node has the name. */
  setDrained(name: string, drained: boolean): Promise<boolean>;
  /** An unknown name changes nothing. */
  setHardware(name: string, hardwareJson: string): Promise<void>;
  /** An agent that moved (new address, new port) says so in its heartbeat. An unknown name changes nothing. */
  setUrl(name: string, url: string): Promise<void>;
  /**
   * The models an agent last said it serves, as JSON, kept so that a restarted
   * coordinator knows what to expect back (docs/adr/0027). An unknown name changes nothing.
   */
  setModels(name: string, modelsJson: string): Promise<void>;
  /** Node name → its last models' JSON, for the nodes whose models were ever stored. */
  lastModels(): Promise<Map<string, string>>;
  /** Resolves false when no node has the name; its models go with it. */
  remove(name: string): Promise<boolean>;
}
