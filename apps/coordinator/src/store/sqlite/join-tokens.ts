import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { JoinTokenRecord, JoinTokens } from "../join-tokens.ts";

export class SqliteJoinTokens implements JoinTokens {
  readonly #insert: StatementSync;
  readonly #spend: StatementSync;
  readonly #deleteUseless: StatementSync;
  readonly #usable: StatementSync;

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare("INSERT INTO join_tokens (id, hash, expires_at_ms, uses_left, created_at_ms) VALUES (?, ?, ?, ?, ?)");
    // One statement checks and spends, so two racing joins cannot both take the last use.
    this.#spend = db.prepare("UPDATE join_tokens SET uses_left = uses_left - 1 WHERE hash = ? AND uses_left > 0 AND expires_at_ms > ?");
    this.#deleteUseless = db.prepare("DELETE FROM join_tokens WHERE uses_left <= 0 OR expires_at_ms <= ?");
    this.#usable = db.prepare("SELECT 1 AS ok FROM join_tokens WHERE hash = ? AND uses_left > 0 AND expires_at_ms > ?");
  }

  add(record: JoinTokenRecord, hash: string): Promise<void> {
    return Promise.try(() => {
      this.#insert.run(record.id, hash, record.expiresAtMs, record.usesLeft, record.createdAtMs);
    });
  }

  spend(hash: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => {
      const spent = this.#spend.run(hash, nowMs);
      // Spent-out and expired tokens are of no further use: keep the table small.
      this.#deleteUseless.run(nowMs);
      return Number(spent.changes) === 1;
    });
  }

  usable(hash: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => this.#usable.get(hash, nowMs) !== undefined);
  }
}
