// The embedded store: Node's built-in SQLite (node:sqlite), so a fresh machine
// needs no native add-on build and no external service (docs/adr/0005). One
// connection, migrated at open, then each kind of record prepares its
// statements once on it (store/sqlite/).
import type { DatabaseSync } from "node:sqlite";
import { openPrivateDatabase } from "./sqlite/private-database.ts";
import type { Store } from "./store.ts";
import type { ApiKeyRecords } from "./api-key-records.ts";
import type { JoinTokens } from "./join-tokens.ts";
import type { NodeRecords } from "./node-records.ts";
import type { AgentlessNodeRecords } from "./agentless-node-records.ts";
import type { Conversations } from "./conversations.ts";
import { MIGRATIONS } from "./sqlite/migrations.ts";
import { SqliteApiKeyRecords } from "./sqlite/api-key-records.ts";
import { SqliteJoinTokens } from "./sqlite/join-tokens.ts";
import { SqliteNodeRecords } from "./sqlite/node-records.ts";
import { SqliteAgentlessNodeRecords } from "./sqlite/agentless-node-records.ts";
import { SqliteConversations } from "./sqlite/conversations.ts";

export class SqliteStore implements Store {
  readonly apiKeys: ApiKeyRecords;
  readonly joinTokens: JoinTokens;
  readonly nodes: NodeRecords;
  readonly agentlessNodes: AgentlessNodeRecords;
  readonly conversations: Conversations;
  readonly #db: DatabaseSync;

  /** `file` is a path, or ":memory:". Throws when the schema cannot be brought up to date. */
  constructor(file: string) {
    // It holds conversations and key hashes; NORMAL: a crash of the process loses nothing committed.
    const db = openPrivateDatabase(file, { migrations: MIGRATIONS, synchronous: "NORMAL" });
    this.#db = db;
    this.apiKeys = new SqliteApiKeyRecords(db);
    this.joinTokens = new SqliteJoinTokens(db);
    this.nodes = new SqliteNodeRecords(db);
    this.agentlessNodes = new SqliteAgentlessNodeRecords(db);
    this.conversations = new SqliteConversations(db);
  }

  close(): Promise<void> {
    return Promise.try(() => this.#db.close());
  }
}
