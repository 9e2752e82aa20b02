// The coordinator's file store (issue 12): uploads for batches now, media
// results later. Metadata in files.db, bytes in content-addressed blobs
// (blob-store.ts): a file is a row naming a blob, and a blob is removed once
// no row names it. Every file has a size limit and, unless told otherwise,
// a retention; sweep() removes expired files and the blobs left unnamed.
//
// Writing a file is two steps, so a caller can commit the row together with
// its own records (a batch's output files and the batch's new state):
// stage() writes the blob and pins it, record() adds the row (synchronous,
// inside the caller's transaction), release() unpins. A pinned blob is never
// swept, so a sweep between the two steps cannot take it.
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Readable } from "node:stream";
import type { StatementSync } from "node:sqlite";
import { BlobStore, type WrittenBlob } from "./blob-store.ts";
import type { FilesDb } from "./files-db.ts";
import { DEFAULT_FILE_LIMITS, type FileLimits } from "./file-limits.ts";

export interface StoredFile {
  id: string;
  /** Who may read it: a client key's owner id, `admin` or `open` (api/conversation-owner.ts). */
  owner: string;
  purpose: string;
  filename: string;
  bytes: number;
  sha256: string;
  createdAtMs: number;
  /** Null: kept until deleted. */
  expiresAtMs: number | null;
}

export interface FileMeta {
  owner: string;
  purpose: string;
  filename: string;
  /** How long it is kept from now. Undefined: the store's retention; null: until deleted. */
  retentionMs?: number | null;
}

export interface FileStoreOptions extends Partial<FileLimits> {
  nowMs?: () => number;
  newId?: () => string;
}

export interface FileListQuery {
  owner: string;
  purpose?: string;
  /** A file id: the page starts after it, in the order asked. */
  after?: string;
  limit: number;
  order: "asc" | "desc";
}

export interface StagedBlob extends WrittenBlob {
  readonly staged: true;
}

interface Statements {
  insert: StatementSync;
  byId: StatementSync;
  remove: StatementSync;
  shaUsed: StatementSync;
  expired: StatementSync;
  allShas: StatementSync;
  seqOf: StatementSync;
  pageAsc: StatementSync;
  pageDesc: StatementSync;
}


export class FileStore {
  readonly limits: FileLimits;
  readonly #db: FilesDb;
  readonly #blobs: BlobStore;
  readonly #sql: Statements;
  readonly #nowMs: () => number;
  readonly #newId: () => string;
  /** Blobs written but not yet named by a row, with how many writers hold each. */
  readonly #pinned = new Map<string, number>();

  private constructor(db: FilesDb, blobs: BlobStore, options: FileStoreOptions) {
    this.#db = db;
    this.#blobs = blobs;
    this.limits = {
      maxFileBytes: options.maxFileBytes ?? DEFAULT_FILE_LIMITS.maxFileBytes,
      retentionMs: options.retentionMs ?? DEFAULT_FILE_LIMITS.retentionMs,
    };
    this.#nowMs = options.nowMs ?? Date.now;
    this.#newId = options.newId ?? (() => `file-${randomBytes(12).toString("hex")}`);
    const { db: sql } = db;
    this.#sql = {
      insert: sql.prepare(`INSERT INTO files (id, owner, purpose, filename, bytes, sha256, created_at_ms, expires_at_ms)
        VALUES ($id, $owner, $purpose, $filename, $bytes, $sha256, $created, $expires)`),
      byId: sql.prepare("SELECT * FROM files WHERE id = ?"),
      remove: sql.prepare("DELETE FROM files WHERE id = ? RETURNING sha256"),
      shaUsed: sql.prepare("SELECT 1 FROM files WHERE sha256 = ? LIMIT 1"),
      expired: sql.prepare("SELECT id FROM files WHERE expires_at_ms IS NOT NULL AND expires_at_ms <= ? LIMIT 1000"),
      allShas: sql.prepare("SELECT DISTINCT sha256 FROM files"),
      seqOf: sql.prepare("SELECT seq FROM files WHERE id = ? AND owner = ?"),
      pageAsc: sql.prepare(`SELECT * FROM files WHERE owner = $owner AND ($purpose IS NULL OR purpose = $purpose) AND seq > $after
        ORDER BY seq LIMIT $limit`),
      pageDesc: sql.prepare(`SELECT * FROM files WHERE owner = $owner AND ($purpose IS NULL OR purpose = $purpose) AND seq < $before
        ORDER BY seq DESC LIMIT $limit`),
    };
  }

  /** The store over `db`, its blobs under `dir` (made if missing; what a crash left half-written is removed). */
  static async open(db: FilesDb, dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const blobs = new BlobStore(dir);
    await blobs.open();
    return new FileStore(db, blobs, options);
  }

  /** Streams `source` in (refused past the size limit, nothing kept) and records it. */
  async put(source: Readable | Buffer, meta: FileMeta): Promise<StoredFile> {
    const staged = await this.stage(source);
    try {
      return this.#db.transaction(() => this.record(staged, meta));
    } finally {
      this.release(staged);
    }
  }

  /** Writes the blob and pins it until release(); throws payload_too_large past the limit. */
  async stage(source: Readable | Buffer): Promise<StagedBlob> {
    let pinned: string | undefined;
    try {
      // Pinned before its rename: between the rename and a later pin, a sweep (or the release of
      // another file with the same bytes) would see a blob that no row names and nothing holds.
      const written = await this.#blobs.write(source, this.limits.maxFileBytes, (sha256) => {
        pinned = sha256;
        this.#pinned.set(sha256, (this.#pinned.get(sha256) ?? 0) + 1);
      });
      return { ...written, staged: true };
    } catch (err) {
      if (pinned !== undefined) this.#unpin(pinned);
      throw err;
    }
  }

  /** Adds the row naming a staged blob. Synchronous: callable inside a FilesDb transaction. */
  record(blob: StagedBlob, meta: FileMeta): StoredFile {
    const createdAtMs = this.#nowMs();
    const file: StoredFile = {
      id: this.#newId(),
      owner: meta.owner,
      purpose: meta.purpose,
      filename: path.basename(meta.filename).slice(0, 255) || "file",
      bytes: blob.bytes,
      sha256: blob.sha256,
      createdAtMs,
      expiresAtMs: meta.retentionMs === null ? null : createdAtMs + (meta.retentionMs ?? this.limits.retentionMs),
    };
    this.#sql.insert.run({
      id: file.id,
      owner: file.owner,
      purpose: file.purpose,
      filename: file.filename,
      bytes: file.bytes,
      sha256: file.sha256,
      created: file.createdAtMs,
      expires: file.expiresAtMs,
    });
    return file;
  }

  /** Unpins a staged blob; one that no row names is removed. */
  release(blob: StagedBlob): void {
    this.#unpin(blob.sha256);
  }

  #unpin(sha256: string): void {
    const held = (this.#pinned.get(sha256) ?? 1) - 1;
    if (held > 0) {
      this.#pinned.set(sha256, held);
      return;
    }
    this.#pinned.delete(sha256);
    if (this.#sql.shaUsed.get(sha256) === undefined) void this.#blobs.remove(sha256).catch(() => {});
  }

  /** The file, or null when there is none (or it has expired: a sweep may not have run yet). */
  get(id: string): StoredFile | null {
    const file = fileOf(this.#sql.byId.get(id));
    if (file === null || (file.expiresAtMs !== null && file.expiresAtMs <= this.#nowMs())) return null;
    return file;
  }

  /** The file's bytes as a stream. */
  open(file: StoredFile): Readable {
    return this.#blobs.read(file.sha256);
  }

  /** Removes the file, and its blob when no other file names it; false when there was no such file. */
  async delete(id: string): Promise<boolean> {
    const row = this.#sql.remove.get(id);
    if (row === undefined) return false;
    const sha256 = String(row["sha256"]);
    await this.#removeBlobIfUnused(sha256);
    return true;
  }

  /** A page of one owner's files, and whether more follow. */
  list(query: FileListQuery): { files: StoredFile[]; hasMore: boolean } {
    const limit = Math.min(10_000, Math.max(1, Math.trunc(query.limit)));
    let from: number | null = null;
    if (query.after !== undefined) {
      const row = this.#sql.seqOf.get(query.after, query.owner);
      // An unknown cursor gives an empty page, as a cursor past the end would.
      if (row === undefined) return { files: [], hasMore: false };
      from = Number(row["seq"]);
    }
    const purpose = query.purpose ?? null;
    const rows =
      query.order === "asc"
        ? this.#sql.pageAsc.all({ owner: query.owner, purpose, after: from ?? 0, limit: limit + 1 })
        : this.#sql.pageDesc.all({ owner: query.owner, purpose, before: from ?? Number.MAX_SAFE_INTEGER, limit: limit + 1 });
    const nowMs = this.#nowMs();
    const files = rows.map((r) => fileOf(r)).filter((f): f is StoredFile => f !== null && (f.expiresAtMs === null || f.expiresAtMs > nowMs));
    return { files: files.slice(0, limit), hasMore: rows.length > limit };
  }

  /** Removes expired files, then every blob no file names (and none is being written). */
  async sweep(): Promise<{ files: number; blobs: number }> {
    let files = 0;
    for (;;) {
      const expired = this.#sql.expired.all(this.#nowMs());
      if (expired.length === 0) break;
      for (const row of expired) if (this.#sql.remove.get(String(row["id"])) !== undefined) files += 1;
    }
    const named = new Set(this.#sql.allShas.all().map((r) => String(r["sha256"])));
    let blobs = 0;
    for (const sha256 of await this.#blobs.list()) {
      // Read again after the await: a blob staged meanwhile is pinned, one recorded meanwhile is named.
      if (named.has(sha256) || this.#pinned.has(sha256) || this.#sql.shaUsed.get(sha256) !== undefined) continue;
      await this.#blobs.remove(sha256);
      blobs += 1;
    }
    return { files, blobs };
  }

  async #removeBlobIfUnused(sha256: string): Promise<void> {
    if (this.#pinned.has(sha256) || this.#sql.shaUsed.get(sha256) !== undefined) return;
    await this.#blobs.remove(sha256);
  }
}

function fileOf(row: Record<string, unknown> | undefined): StoredFile | null {
  if (row === undefined) return null;
  const expires = row["expires_at_ms"];
  return {
    id: String(row["id"]),
    owner: String(row["owner"]),
    purpose: String(row["purpose"]),
    filename: String(row["filename"]),
    bytes: Number(row["bytes"]),
    sha256: String(row["sha256"]),
    createdAtMs: Number(row["created_at_ms"]),
    expiresAtMs: expires === null || expires === undefined ? null : Number(expires),
  };
}
