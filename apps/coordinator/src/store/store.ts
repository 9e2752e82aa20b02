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

export interface Store {
  /** `hash` is the key's sha256; the key itself is never stored. */
  addApiKey(record: ApiKeyRecord, hash: string): Promise<void>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Resolves false when no key had that id. */
  removeApiKey(id: string): Promise<boolean>;
  apiKeyHashes(): Promise<string[]>;
  close(): Promise<void>;
}
