import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ChatTurn } from "@flotilla/protocol";
import type { Conversations } from "../conversations.ts";
import { immediateTransaction } from "./transaction.ts";

export class SqliteConversations implements Conversations {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #owned: StatementSync;
  readonly #ownerOf: StatementSync;
  readonly #newest: StatementSync;
  readonly #lastSeq: StatementSync;
  readonly #insertTurn: StatementSync;
  readonly #touch: StatementSync;
  readonly #deleteTurns: StatementSync;
  readonly #delete: StatementSync;
  readonly #idle: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insert = db.prepare(
      "INSERT INTO conversations (id, owner, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    );
    this.#owned = db.prepare("SELECT 1 AS ok FROM conversations WHERE id = ? AND owner = ?");
    this.#ownerOf = db.prepare("SELECT owner FROM conversations WHERE id = ?");
    // The newest `limit` turns, put back in the order they were said.
    this.#newest = db.prepare(
      `SELECT role, content FROM (
         SELECT seq, role, content FROM conversation_turns WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?
       ) ORDER BY seq`,
    );
    this.#lastSeq = db.prepare("SELECT MAX(seq) AS seq FROM conversation_turns WHERE conversation_id = ?");
    this.#insertTurn = db.prepare("INSERT INTO conversation_turns (conversation_id, seq, role, content, created_at_ms) VALUES (?, ?, ?, ?, ?)");
    this.#touch = db.prepare("UPDATE conversations SET updated_at_ms = ? WHERE id = ?");
    this.#deleteTurns = db.prepare("DELETE FROM conversation_turns WHERE conversation_id = ?");
    this.#delete = db.prepare("DELETE FROM conversations WHERE id = ?");
    this.#idle = db.prepare("SELECT id FROM conversations WHERE updated_at_ms < ?");
  }

  create(id: string, owner: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => Number(this.#insert.run(id, owner, nowMs, nowMs).changes) === 1);
  }

  turns(id: string, owner: string, limit: number): Promise<ChatTurn[] | null> {
    return Promise.try(() => {
      if (this.#owned.get(id, owner) === undefined) return null;
      const rows = this.#newest.all(id, Math.max(0, Math.floor(limit))) as Array<{ role: string; content: string }>;
      return rows.map((r) => ({ role: r.role === "system" || r.role === "assistant" ? r.role : "user", content: r.content }));
    });
  }

  append(id: string, owner: string, turns: readonly ChatTurn[], nowMs: number): Promise<boolean> {
    return Promise.try(() =>
      // In one transaction: all turns or none, and the next `seq` cannot be taken twice.
      immediateTransaction(this.#db, () => {
        if (this.#owned.get(id, owner) === undefined) return false;
        const last = this.#lastSeq.get(id) as { seq: number | null } | undefined;
        let seq = (last?.seq ?? -1) + 1;
        for (const turn of turns) this.#insertTurn.run(id, seq++, turn.role, turn.content, nowMs);
        this.#touch.run(nowMs, id);
        return true;
      }),
    );
  }

  remove(id: string, owner: string | undefined): Promise<boolean> {
    return Promise.try(() =>
      immediateTransaction(this.#db, () => {
        const row = this.#ownerOf.get(id) as { owner: string } | undefined;
        if (row === undefined || (owner !== undefined && row.owner !== owner)) return false;
        this.#deleteTurns.run(id);
        this.#delete.run(id);
        return true;
      }),
    );
  }

  removeIdleSince(cutoffMs: number): Promise<number> {
    return Promise.try(() =>
      // The turns have no foreign key to cascade on: each conversation's go with it, in one transaction.
      immediateTransaction(this.#db, () => {
        const ids = (this.#idle.all(cutoffMs) as Array<{ id: string }>).map((r) => r.id);
        for (const id of ids) {
          this.#deleteTurns.run(id);
          this.#delete.run(id);
        }
        return ids.length;
      }),
    );
  }
}
