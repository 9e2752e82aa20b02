import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AgentlessNodeRecord, AgentlessNodeRecords } from "../agentless-node-records.ts";
import { flag, tierOf } from "./columns.ts";

// The table keeps its first name, static_nodes: renaming it would be a migration for nothing.
type AgentlessNodeRow = {
  name: string;
  url: string;
  kind: string;
  tier: number;
  pool: string;
  models_json: string;
  weight: number;
  labels_json: string;
  api_key_env: string | null;
  drained: number;
  added_at_ms: number;
};

export class SqliteAgentlessNodeRecords implements AgentlessNodeRecords {
  readonly #insert: StatementSync;
  readonly #list: StatementSync;
  readonly #setDrained: StatementSync;
  readonly #delete: StatementSync;

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare(
      `INSERT INTO static_nodes (name, url, kind, tier, pool, models_json, weight, labels_json, api_key_env, drained, added_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    );
    this.#list = db.prepare("SELECT * FROM static_nodes ORDER BY name");
    this.#setDrained = db.prepare("UPDATE static_nodes SET drained = ? WHERE name = ?");
    this.#delete = db.prepare("DELETE FROM static_nodes WHERE name = ?");
  }

  add(r: AgentlessNodeRecord): Promise<boolean> {
    return Promise.try(() => {
      const inserted = this.#insert.run(
        r.name,
        r.url,
        r.kind,
        r.tier,
        r.pool,
        JSON.stringify(r.models),
        r.weight,
        JSON.stringify(r.labels),
        r.apiKeyEnv,
        flag(r.drained),
        r.addedAtMs,
      );
      return Number(inserted.changes) === 1;
    });
  }

  list(): Promise<AgentlessNodeRecord[]> {
    return Promise.try(() =>
      (this.#list.all() as AgentlessNodeRow[]).map((r) => ({
        name: r.name,
        url: r.url,
        kind: r.kind === "ollama" ? "ollama" : "openai",
        tier: tierOf(r.tier),
        pool: r.pool,
        models: JSON.parse(r.models_json) as string[],
        weight: r.weight,
        labels: JSON.parse(r.labels_json) as Record<string, string>,
        apiKeyEnv: r.api_key_env,
        drained: r.drained === 1,
        addedAtMs: r.added_at_ms,
      })),
    );
  }

  setDrained(name: string, drained: boolean): Promise<boolean> {
    return Promise.try(() => Number(this.#setDrained.run(flag(drained), name).changes) > 0);
  }

  remove(name: string): Promise<boolean> {
    return Promise.try(() => Number(this.#delete.run(name).changes) > 0);
  }
}
