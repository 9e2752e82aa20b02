// Client API keys (auth/api-keys.ts). The store is handed a key's sha256,
// never the key, so a copied data directory grants no access (docs/adr/0006).

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, so a user can tell keys apart. */
  prefix: string;
  createdAtMs: number;
}

export interface ApiKeyRecords {
  /** Rejects, storing nothing, when a stored key already has this hash. */
  add(record: ApiKeyRecord, hash: string): Promise<void>;
  /** Oldest first (then by id); a record never carries its hash. */
  list(): Promise<ApiKeyRecord[]>;
  /** Resolves false when no key had that id. */
  remove(id: string): Promise<boolean>;
  /** Every stored key's hash: requests are checked against these in memory. */
  hashes(): Promise<string[]>;
}
