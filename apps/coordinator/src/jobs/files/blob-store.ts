// Content-addressed blobs on the coordinator's disk: each is named by the
// sha256 of its bytes, so the same content uploaded twice (or a batch's
// output written again after a crash) is kept once. A blob is written to a
// temporary file first, hashed and counted while it streams in, synced, and
// only then renamed to its name: a blob under its name is always whole. The
// limit is enforced while streaming, so an upload over it is refused without
// ever being held whole, on disk or in memory. Files are 0600 (ADR 0025).
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { FlotillaError } from "@flotilla/protocol";
import { PRIVATE_FILE_MODE } from "@flotilla/security/private-files";

const BLOB_NAME = /^[0-9a-f]{64}$/;
const TEMPORARY_PREFIX = ".upload-";

export interface WrittenBlob {
  sha256: string;
  bytes: number;
}

export class BlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Makes the directory (0700) and removes what a crash left half-written: nothing is being written before this. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(TEMPORARY_PREFIX)) await rm(path.join(this.dir, name), { force: true });
    }
  }

  /**
   * Streams `source` into a blob. Past `maxBytes` it stops reading, removes
   * what it wrote and throws payload_too_large (the source is left unread).
   */
  async write(source: Readable | Buffer, maxBytes: number, beforeNamed: (sha256: string) => void = () => {}): Promise<WrittenBlob> {
    const temporary = path.join(this.dir, `${TEMPORARY_PREFIX}${randomUUID()}`);
    const handle = await open(temporary, "wx", PRIVATE_FILE_MODE);
    const hash = createHash("sha256");
    let bytes = 0;
    try {
      const chunks: AsyncIterable<Buffer | string> | Buffer[] = Buffer.isBuffer(source) ? [source] : source;
      for await (const chunk of chunks) {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        bytes += buffer.length;
        if (bytes > maxBytes) throw tooLarge(maxBytes);
        hash.update(buffer);
        await handle.write(buffer);
      }
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(temporary, { force: true });
      throw err;
    }
    await handle.close();
    const sha256 = hash.digest("hex");
    const target = this.pathOf(sha256);
    // Told before the blob has its name, so a caller can pin it before a sweep could see it unnamed.
    beforeNamed(sha256);
    // Renaming over an existing blob of the same content replaces it with the same bytes.
    await rename(temporary, target);
    await syncDirectory(this.dir);
    return { sha256, bytes };
  }

  /** A stream of the blob's bytes; throws ENOENT (as the stream's error) when it is gone. */
  read(sha256: string): ReadStream {
    return createReadStream(this.pathOf(sha256));
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  /** Every blob's name. */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((name) => BLOB_NAME.test(name));
  }

  pathOf(sha256: string): string {
    if (!BLOB_NAME.test(sha256)) throw new Error(`not a blob name: ${sha256.slice(0, 80)}`);
    return path.join(this.dir, sha256);
  }
}

function tooLarge(maxBytes: number): FlotillaError {
  return new FlotillaError("payload_too_large", `the file is larger than this server accepts (${maxBytes} bytes; FLOTILLA_MAX_FILE_BYTES)`);
}

/** So that the rename itself survives a power cut, not only the bytes. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
