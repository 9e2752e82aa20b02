// Client API keys for /v1. While none exists /v1 is open (the server binds to
// loopback by default); once one exists every /v1 request needs a key.
import { randomUUID } from "node:crypto";
import type { ApiKeyRecord, ApiKeyRecords } from "../store/api-key-records.ts";
import { generateSecret, hashSecret } from "@flotilla/security";

export class ApiKeys {
  readonly #records: ApiKeyRecords;
  readonly #hashes = new Set<string>();

  private constructor(records: ApiKeyRecords) {
    this.#records = records;
  }

  static async load(records: ApiKeyRecords): Promise<ApiKeys> {
    const keys = new ApiKeys(records);
    for (const hash of await records.hashes()) keys.#hashes.add(hash);
    return keys;
  }

  get required(): boolean {
    return this.#hashes.size > 0;
  }

  isValid(secret: string): boolean {
    return this.#hashes.has(hashSecret(secret));
  }

  /** Returns the secret: the only time it exists outside the client's hands. */
  async create(name: string, nowMs: number): Promise<{ record: ApiKeyRecord; secret: string }> {
    const secret = generateSecret("api");
    const hash = hashSecret(secret);
    const record: ApiKeyRecord = { id: randomUUID(), name, prefix: secret.slice(0, 8), createdAtMs: nowMs };
    await this.#records.add(record, hash);
    this.#hashes.add(hash);
    return { record, secret };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.#records.list();
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.#records.remove(id);
    if (removed) await this.#reload();
    return removed;
  }

  async #reload(): Promise<void> {
    const hashes = await this.#records.hashes();
    this.#hashes.clear();
    for (const hash of hashes) this.#hashes.add(hash);
  }
}
