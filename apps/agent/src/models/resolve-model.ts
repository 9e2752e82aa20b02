// Turns a model source into a local file. Hugging Face references are
// downloaded once into the cache, verified against the sha256 the hub
// publishes for LFS files, and moved into place only when they match; the
// coordinator's model store is pulled the same way, with resume
// (store-pull.ts). A path is used where it is: a shared NFS mount needs no copy.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { access, mkdir, readFile, rename, rm, writeFile, constants } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ModelSource } from "./model-spec.ts";
import { pullFromStore, type StoreAccess } from "./store-pull.ts";
import { causeOf } from "./error-cause.ts";

export interface ResolveOptions {
  cacheDir: string;
  /** `HF_ENDPOINT`, as the Hugging Face tools name it: a mirror or a local server. */
  hfEndpoint: string;
  /** `HF_TOKEN`, for gated repositories. Sent to the endpoint only, never logged. */
  hfToken: string | undefined;
  /**
   * The coordinator's model store, for `store:` sources: asked at each
   * resolution, since an agent learns its credential only once it has joined.
   */
  store?: () => StoreAccess | undefined;
  onProgress?: (progress: DownloadProgress) => void;
  /** Ends a download (its partial file is removed); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  totalBytes: number | undefined;
}

const SHA256 = /^[0-9a-f]{64}$/;

export async function resolveModel(source: ModelSource, options: ResolveOptions): Promise<string> {
  if (source.kind === "file") {
    try {
      await access(source.path, constants.R_OK);
    } catch {
      throw new Error(`model file not found or not readable: ${source.path}`);
    }
    return source.path;
  }
  if (source.kind === "store" || source.kind === "store-sha256") {
    return pullFromStore(source, {
      cacheDir: options.cacheDir,
      store: options.store,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  const target = path.join(options.cacheDir, "hf", source.owner, source.repo, source.revision, source.file);
  const checksumFile = `${target}.sha256`;
  if (await exists(target) && SHA256.test((await readFile(checksumFile, "utf8").catch(() => "")).trim())) {
    return target;
  }
  const url = `${options.hfEndpoint.replace(/\/+$/, "")}/${source.owner}/${source.repo}/resolve/${source.revision}/${source.file}`;
  const sha256 = await download(url, target, source.file, options);
  await writeFile(checksumFile, `${sha256}\n`);
  return target;
}

async function download(url: string, target: string, file: string, options: ResolveOptions): Promise<string> {
  const headers: Record<string, string> = options.hfToken ? { authorization: `Bearer ${options.hfToken}` } : {};
  // The hub answers an LFS file with a redirect to its CDN; the sha256 is on
  // that first answer (X-Linked-Etag), so follow the redirect by hand.
  const signal = options.signal;
  let response = await fetchExplained(url, file, { headers, redirect: "manual", ...(signal ? { signal } : {}) });
  let expected = sha256From(response.headers);
  const location = response.headers.get("location");
  if (response.status >= 300 && response.status < 400 && location) {
    await response.body?.cancel();
    response = await fetchExplained(new URL(location, url).href, file, { redirect: "follow", ...(signal ? { signal } : {}) });
    expected ??= sha256From(response.headers);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`download of ${url} failed: HTTP ${response.status}`);
  }
  if (!expected) {
    await response.body.cancel();
    throw new Error(`download of ${url} refused: the server published no sha256 to verify it against`);
  }
  const totalHeader = Number(response.headers.get("content-length"));
  const totalBytes = Number.isFinite(totalHeader) && totalHeader > 0 ? totalHeader : undefined;
  await mkdir(path.dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const hash = createHash("sha256");
  let receivedBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      receivedBytes += chunk.length;
      options.onProgress?.({ file, receivedBytes, totalBytes });
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body), tap, createWriteStream(partial, { mode: 0o644 }), signal ? { signal } : {}).catch((err: unknown) => {
      signal?.throwIfAborted();
      throw new Error(`download of ${file} from ${url} broke off after ${receivedBytes} bytes: ${causeOf(err)}`, { cause: err });
    });
    const actual = hash.digest("hex");
    if (actual !== expected) throw new Error(`checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}`);
    await rename(partial, target);
    return actual;
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * fetch() that says what failed: undici's own error is a bare "fetch failed",
 * the reason (refused, unknown host, TLS) hidden in its `cause`.
 */
async function fetchExplained(url: string, file: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    init.signal?.throwIfAborted();
    throw new Error(`download of ${file} from ${url} failed: ${causeOf(err)}`, { cause: err });
  }
}

function sha256From(headers: Headers): string | undefined {
  for (const name of ["x-linked-etag", "etag"]) {
    const value = headers.get(name)?.replace(/^W\//, "").replaceAll('"', "").toLowerCase();
    if (value && SHA256.test(value)) return value;
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
