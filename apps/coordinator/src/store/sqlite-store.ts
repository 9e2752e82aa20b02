// The embedded store: Node's built-in SQLite (node:sqlite), so a fresh machine
// needs no native add-on build and no external service (docs/adr/0005). One
// connection, migrated at open, then each kind of record prepares its
// statements once on it (store/sqlite/).
import { DatabaseSync } from "node:sqlite";
import { ensurePrivateFileSync, restrictIfPresentSync } from "@flotilla/security/private-files";
import type { Store } from "./store.ts";
import type { ApiKeyRecords } from "./api-key-records.ts";
import type { JoinTokens } from "./join-tokens.ts";
import type { NodeRecords } from "./node-records.ts";
import type { AgentlessNodeRecords } from "./agentless-node-records.ts";
import type { Conversations } from "./conversations.ts";
import { migrate } from "./sqlite/migrations.ts";
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
    const onDisk = file !== ":memory:" && file !== "";
    // The database holds conversations and key hashes: 0600 whatever the
    // directory and umask (ADR 0025). SQLite gives the -wal and -shm files
    // it creates the database file's own mode, so the file is made first;
    // ones left by an older version are narrowed too.
    if (onDisk) ensurePrivateFileSync(file);
    const db = new DatabaseSync(file);
    try {
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
      // Before any statement is prepared: preparing needs the tables to exist.
      migrate(db);
      if (onDisk) for (const suffix of ["-wal", "-shm", "-journal"]) restrictIfPresentSync(`${file}${suffix}`);
    } catch (err) {
      // Nobody else holds the connection: leave no open handle on the file.
      db.close();
      throw err;
    }
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
