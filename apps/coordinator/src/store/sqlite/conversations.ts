import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ChatTurn } from "@flotilla/protocol";
import type { Conversations } from "../conversations.ts";
import { immediateTransaction } from "./transaction.ts";

export class SqliteConversations implements Conversations {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #exists: StatementSync;
  readonly #newest: StatementSync;
  readonly #lastSeq: StatementSync;
  readonly #insertTurn: StatementSync;
  readonly #touch: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insert = db.prepare("INSERT INTO conversations (id, created_at_ms, updated_at_ms) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING");
    this.#exists = db.prepare("SELECT 1 AS ok FROM conversations WHERE id = ?");
    // The newest `limit` turns, put back in the order they were said.
    this.#newest = db.prepare(
      `SELECT role, content FROM (
         SELECT seq, role, content FROM conversation_turns WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?
       ) ORDER BY seq`,
    );
    this.#lastSeq = db.prepare("SELECT MAX(seq) AS seq FROM conversation_turns WHERE conversation_id = ?");
    this.#insertTurn = db.prepare("INSERT INTO conversation_turns (conversation_id, seq, role, content, created_at_ms) VALUES (?, ?, ?, ?, ?)");
    this.#touch = db.prepare("UPDATE conversations SET updated_at_ms = ? WHERE id = ?");
  }

  create(id: string, nowMs: number): Promise<boolean> {
    return Promise.try(() => Number(this.#insert.run(id, nowMs, nowMs).changes) === 1);
  }

  turns(id: string, limit: number): Promise<ChatTurn[] | null> {
    return Promise.try(() => {
      if (this.#exists.get(id) === undefined) return null;
      const rows = this.#newest.all(id, Math.max(0, Math.floor(limit))) as Array<{ role: string; content: string }>;
      return rows.map((r) => ({ role: r.role === "system" || r.role === "assistant" ? r.role : "user", content: r.content }));
    });
  }

  append(id: string, turns: readonly ChatTurn[], nowMs: number): Promise<boolean> {
    return Promise.try(() =>
      // In one transaction: all turns or none, and the next `seq` cannot be taken twice.
      immediateTransaction(this.#db, () => {
        if (this.#exists.get(id) === undefined) return false;
        const last = this.#lastSeq.get(id) as { seq: number | null } | undefined;
        let seq = (last?.seq ?? -1) + 1;
        for (const turn of turns) this.#insertTurn.run(id, seq++, turn.role, turn.content, nowMs);
        this.#touch.run(nowMs, id);
        return true;
      }),
    );
  }
}
