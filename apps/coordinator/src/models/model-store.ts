// The coordinator's model store (docs/adr/0042): model files under
// `<dataDir>/model-store/sha256/<hex>`, named in index.json. A file is kept
// by the sha256 of its bytes, so the same model added under two names (or
// twice) is stored once, and a name can be pointed at new bytes without an
// agent ever mixing the old and the new: agents pull by hash. An upload is
// streamed to a temporary file while it is hashed (jobs/files/blob-store.ts)
// and only then renamed into place, so a file under its hash is always whole.
//
// Changes to the index are made one at a time. A file is removed when no
// name refers to it any more, unless an upload of the same bytes is between
// naming its file and naming it in the index (it is pinned meanwhile).
import { readdir, rm, stat, statfs } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { FlotillaError, isStoredModelName, STORED_MODEL_NAME_RULE, type AddModelResponse, type StoredModel } from "@flotilla/protocol";
import { BlobStore } from "../jobs/files/blob-store.ts";
import { readModelIndex, writeModelIndex } from "./model-index.ts";

export interface ModelStoreLog {
  warn(fields: object, message: string): void;
}

/** A stored file as the download route serves it. */
export interface StoredFile {
  path: string;
  size: number;
}

export interface AddedModel extends AddModelResponse {
  /** The name was not in the store before (201 rather than 200). */
  created: boolean;
}

/** Free space left on the disk after an upload, so that a model never fills it to the last byte. */
const RESERVED_FREE_BYTES = 64 * 1024 * 1024;

export class ModelStore {
  readonly #indexFile: string;
  readonly #blobs: BlobStore;
  #entries: ReadonlyMap<string, StoredModel>;
  /** sha256 → uploads between naming the file and naming it in the index. */
  readonly #pins = new Map<string, number>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, entries: readonly StoredModel[]) {
    this.#indexFile = path.join(dir, "index.json");
    this.#blobs = new BlobStore(path.join(dir, "sha256"));
    this.#entries = new Map(entries.map((entry) => [entry.name, entry]));
  }

  /**
   * Opens the store in `dir`, making it if needed. What a crash left behind
   * is tidied: half-written uploads and index files are removed, an entry
   * whose file is gone (or of another size) is dropped with a warning, and a
   * file no entry names is removed.
   */
  static async open(dir: string, log: ModelStoreLog): Promise<ModelStore> {
    const store = new ModelStore(dir, await readModelIndex(path.join(dir, "index.json")));
    await store.#blobs.open();
    for (const name of await readdir(dir)) {
      if (name.startsWith(".index-")) await rm(path.join(dir, name), { force: true });
    }
    const kept: StoredModel[] = [];
    for (const entry of store.#entries.values()) {
      const size = await stat(store.#blobs.pathOf(entry.sha256)).then((s) => s.size, () => undefined);
      if (size === entry.size) kept.push(entry);
      else log.warn({ model: entry.name, sha256: entry.sha256, expectedBytes: entry.size, foundBytes: size ?? null }, "model store: file missing or of the wrong size; entry dropped");
    }
    if (kept.length !== store.#entries.size) await store.#replace(kept);
    const named = new Set(kept.map((entry) => entry.sha256));
    for (const sha256 of await store.#blobs.list()) {
      if (!named.has(sha256)) await store.#blobs.remove(sha256);
    }
    return store;
  }

  /** Every name, sorted. */
  list(): StoredModel[] {
    return [...this.#entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): StoredModel | undefined {
    return this.#entries.get(name);
  }

  /** The file of `sha256` when a name refers to it; only named files are served. */
  file(sha256: string): StoredFile | undefined {
    for (const entry of this.#entries.values()) {
      if (entry.sha256 === sha256) return { path: this.#blobs.pathOf(sha256), size: entry.size };
    }
    return undefined;
  }

  /**
   * Streams `body` (exactly `bytes` long: its Content-Length) into the store
   * under `name`, replacing what the name pointed to. Refused before a byte
   * is read when the name is not valid, the body is empty, or the disk has
   * no room for it.
   */
  async add(name: string, body: Readable, bytes: number, nowMs: number): Promise<AddedModel> {
    if (!isStoredModelName(name)) throw new FlotillaError("invalid_request", `a model's name must be ${STORED_MODEL_NAME_RULE}`, { param: "name" });
    if (bytes === 0) throw new FlotillaError("invalid_request", "the model file is empty");
    await this.#requireRoom(bytes);
    let pinned: string | undefined;
    try {
      const written = await this.#blobs
        .write(body, bytes, (sha256) => {
          pinned = sha256;
          this.#pin(sha256, 1);
        })
        .catch((err: unknown) => {
          throw diskFull(err) ?? err;
        });
      return await this.#exclusive(async () => {
        if (written.bytes !== bytes) {
          await this.#removeIfUnused(written.sha256, 1);
          throw new FlotillaError("invalid_request", `the body ended after ${written.bytes} of the ${bytes} bytes its Content-Length declared`);
        }
        const previous = this.#entries.get(name);
        const deduplicated = this.file(written.sha256) !== undefined;
        const entry: StoredModel = {
          name,
          sha256: written.sha256,
          size: written.bytes,
          // The same bytes again under the same name: the name is as old as it was.
          addedAtMs: previous?.sha256 === written.sha256 ? previous.addedAtMs : nowMs,
        };
        try {
          await this.#replace([...[...this.#entries.values()].filter((e) => e.name !== name), entry]);
        } catch (err) {
          await this.#removeIfUnused(written.sha256, 1);
          throw err;
        }
        const replaced = previous !== undefined && previous.sha256 !== written.sha256 ? previous.sha256 : null;
        if (replaced !== null) await this.#removeIfUnused(replaced, 0);
        return { model: entry, deduplicated, replacedSha256: replaced, created: previous === undefined };
      });
    } finally {
      if (pinned !== undefined) this.#pin(pinned, -1);
    }
  }

  /** Forgets `name`; its file goes too when no other name refers to it. Undefined when there was no such name. */
  remove(name: string): Promise<StoredModel | undefined> {
    return this.#exclusive(async () => {
      const entry = this.#entries.get(name);
      if (entry === undefined) return undefined;
      await this.#replace([...this.#entries.values()].filter((e) => e.name !== name));
      await this.#removeIfUnused(entry.sha256, 0);
      return entry;
    });
  }

  async #replace(entries: readonly StoredModel[]): Promise<void> {
    const sorted = [...entries].sort((a, b) => a.name.localeCompare(b.name));
    await writeModelIndex(this.#indexFile, sorted);
    this.#entries = new Map(sorted.map((entry) => [entry.name, entry]));
  }

  /** Removes the file of `sha256` when no name refers to it and no upload but `ownPins` of the caller's has it pinned. */
  async #removeIfUnused(sha256: string, ownPins: number): Promise<void> {
    if (this.file(sha256) !== undefined || (this.#pins.get(sha256) ?? 0) > ownPins) return;
    await this.#blobs.remove(sha256);
  }

  #pin(sha256: string, by: number): void {
    const count = (this.#pins.get(sha256) ?? 0) + by;
    if (count > 0) this.#pins.set(sha256, count);
    else this.#pins.delete(sha256);
  }

  async #requireRoom(bytes: number): Promise<void> {
    const disk = await statfs(this.#blobs.dir);
    const free = disk.bavail * disk.bsize;
    if (bytes + RESERVED_FREE_BYTES > free) {
      throw new FlotillaError("payload_too_large", `the model is ${bytes} bytes and the store's disk has ${free} free (${RESERVED_FREE_BYTES} are kept free)`);
    }
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(run);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

function diskFull(err: unknown): FlotillaError | undefined {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== "ENOSPC") return undefined;
  return new FlotillaError("payload_too_large", "the store's disk filled up during the upload; nothing was kept", { cause: err });
}
