import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { NodeRecord, NodeRecords } from "../node-records.ts";
import { flag, tierOf } from "./columns.ts";

type NodeRow = {
  id: string;
  name: string;
  url: string;
  tier: number;
  pool: string;
  credential_hash: string;
  hardware_json: string | null;
  drained: number;
  joined_at_ms: number;
};

export class SqliteNodeRecords implements NodeRecords {
  readonly #upsert: StatementSync;
  readonly #list: StatementSync;
  readonly #setDrained: StatementSync;
  readonly #setHardware: StatementSync;
  readonly #setUrl: StatementSync;
  readonly #setModels: StatementSync;
  readonly #lastModels: StatementSync;
  readonly #delete: StatementSync;

  constructor(db: DatabaseSync) {
    this.#upsert = db.prepare(
      `INSERT INTO nodes (id, name, url, tier, pool, credential_hash, hardware_json, drained, joined_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET id = excluded.id, url = excluded.url, tier = excluded.tier,
         pool = excluded.pool, credential_hash = excluded.credential_hash,
         hardware_json = excluded.hardware_json, drained = excluded.drained, joined_at_ms = excluded.joined_at_ms`,
    );
    this.#list = db.prepare("SELECT * FROM nodes ORDER BY name");
    this.#setDrained = db.prepare("UPDATE nodes SET drained = ? WHERE name = ?");
    this.#setHardware = db.prepare("UPDATE nodes SET hardware_json = ? WHERE name = ?");
    this.#setUrl = db.prepare("UPDATE nodes SET url = ? WHERE name = ?");
    this.#setModels = db.prepare("UPDATE nodes SET models_json = ? WHERE name = ?");
    this.#lastModels = db.prepare("SELECT name, models_json FROM nodes WHERE models_json IS NOT NULL ORDER BY name");
    this.#delete = db.prepare("DELETE FROM nodes WHERE name = ?");
  }

  put(r: NodeRecord): Promise<void> {
    return Promise.try(() => {
      this.#upsert.run(r.id, r.name, r.url, r.tier, r.pool, r.credentialHash, r.hardwareJson, flag(r.drained), r.joinedAtMs);
    });
  }

  list(): Promise<NodeRecord[]> {
    return Promise.try(() =>
      (this.#list.all() as NodeRow[]).map((r) => ({
        id: r.id,
        name: r.name,
        url: r.url,
        tier: tierOf(r.tier),
        pool: r.pool,
        credentialHash: r.credential_hash,
        hardwareJson: r.hardware_json,
        drained: r.drained === 1,
        joinedAtMs: r.joined_at_ms,
      })),
    );
  }

  setDrained(name: string, drained: boolean): Promise<boolean> {
    return Promise.try(() => Number(this.#setDrained.run(flag(drained), name).changes) > 0);
  }

  setHardware(name: string, hardwareJson: string): Promise<void> {
    return Promise.try(() => {
      this.#setHardware.run(hardwareJson, name);
    });
  }

  setUrl(name: string, url: string): Promise<void> {
    return Promise.try(() => {
      this.#setUrl.run(url, name);
    });
  }

  setModels(name: string, modelsJson: string): Promise<void> {
    return Promise.try(() => {
      this.#setModels.run(modelsJson, name);
    });
  }

  lastModels(): Promise<Map<string, string>> {
    return Promise.try(() => new Map((this.#lastModels.all() as Array<{ name: string; models_json: string }>).map((r) => [r.name, r.models_json])));
  }

  remove(name: string): Promise<boolean> {
    return Promise.try(() => Number(this.#delete.run(name).changes) > 0);
  }
}
