// Agentless nodes added through the cluster API (docs/adr/0012). Those of the
// cluster file live in the file, not here.

export interface AgentlessNodeRecord {
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

export interface AgentlessNodeRecords {
  /** Resolves false, storing nothing, when a stored node already has the name. */
  add(record: AgentlessNodeRecord): Promise<boolean>;
  /** Ordered by name. */
  list(): Promise<AgentlessNodeRecord[]>;
  /** Resolves false when no stored node has the name. */
  setDrained(name: string, drained: boolean): Promise<boolean>;
  /** Resolves false when no stored node has the name. */
  remove(name: string): Promise<boolean>;
}
