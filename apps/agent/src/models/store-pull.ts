// A `store:` model source (docs/adr/0042): a file of the coordinator's model
// store, pulled into this agent's cache as `<cacheDir>/store/<sha256>` and
// kept there for next time. A name is looked up at every provisioning (it
// may point at new bytes since), a hash never changes. The download resumes
// where it broke off: the bytes so far stay in a `.part` file (across an
// interrupted connection, a released roamer, a restarted agent) and the
// rest is asked for with a Range request. The file is renamed into place only
// once the sha256 of all of it is the one asked for; a file that is not is
// removed, so nothing unverified is ever loaded or kept.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { storedModel, type StoredModel } from "@flotilla/protocol";
import type { DownloadProgress } from "./resolve-model.ts";
import { causeOf } from "./error-cause.ts";

/** Where the store is and what this node presents to it: the coordinator it joined and its node credential. */
export interface StoreAccess {
  url: string;
  /** The node credential (or an admin key). Sent to `url` only, never logged. */
  credential: string;
}

export type StoreSource = { kind: "store"; name: string } | { kind: "store-sha256"; sha256: string };

export interface StorePullOptions {
  cacheDir: string;
  /** Undefined until the agent has joined a coordinator. */
  store: (() => StoreAccess | undefined) | undefined;
  onProgress?: (progress: DownloadProgress) => void;
  /** Ends the pull; the bytes so far are kept for the next one. */
  signal?: AbortSignal;
}

/** Tries in a row that bring no byte before a pull gives up; a try that brings some starts the count again. */
const MAX_FRUITLESS_TRIES = 4;
const RETRY_DELAY_MS = 250;

/** The local path of a store source, pulled first when it is not in the cache. */
export async function pullFromStore(source: StoreSource, options: StorePullOptions): Promise<string> {
  const label = source.kind === "store" ? `store:${source.name}` : `store:sha256:${source.sha256}`;
  const access = options.store?.();
  if (access === undefined) throw new Error(`${label} is a file of the coordinator's model store: this agent has not joined a coordinator (only a template's source can name one)`);
  const wanted = source.kind === "store" ? await lookUp(access, source.name, options.signal) : { sha256: source.sha256, size: undefined };
  const target = path.join(options.cacheDir, "store", wanted.sha256);
  return once(target, async () => {
    // Renamed into place only once verified: a file there of the right size is the one.
    const cached = await sizeOf(target);
    if (cached !== undefined && (wanted.size === undefined || cached === wanted.size)) return target;
    await mkdir(path.dirname(target), { recursive: true });
    await download(access, { sha256: wanted.sha256, size: wanted.size, label }, target, options);
    return target;
  });
}

/** `GET /cluster/models/{name}/ref`: the hash and size a name has now. */
async function lookUp(access: StoreAccess, name: string, signal: AbortSignal | undefined): Promise<StoredModel> {
  const url = `${access.url.replace(/\/+$/, "")}/cluster/models/${encodeURIComponent(name)}/ref`;
  const response = await call(url, access, {}, signal, `store:${name}`);
  if (response.status === 404) {
    await response.body?.cancel();
    throw new Error(`the coordinator's model store has no model named ${name} (\`flotilla models add FILE --name ${name}\` adds one)`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`looking up store:${name} at ${url} failed: ${refusal(response.status)}`);
  }
  const parsed = storedModel.safeParse(await response.json());
  if (!parsed.success || parsed.data.name !== name) throw new Error(`the coordinator answered ${url} with something that is not a stored model`);
  return parsed.data;
}

interface Wanted {
  sha256: string;
  /** Known from a name's lookup; for a bare hash, from the first answer. */
  size: number | undefined;
  label: string;
}

/** What the `.part` file holds: its bytes so far and their running hash. */
interface Part {
  file: string;
  bytes: number;
  hash: Hash;
}

async function download(access: StoreAccess, wanted: Wanted, target: string, options: StorePullOptions): Promise<void> {
  const url = `${access.url.replace(/\/+$/, "")}/cluster/models/by-hash/${wanted.sha256}`;
  const part = await resumePart(`${target}.part`, wanted.size);
  let size = wanted.size;
  let fruitless = 0;
  for (;;) {
    const before = part.bytes;
    try {
      size = await fetchRest(url, access, part, size, wanted.label, options);
      break;
    } catch (err) {
      options.signal?.throwIfAborted();
      if (!(err instanceof Interrupted)) throw err;
      fruitless = part.bytes > before ? 0 : fruitless + 1;
      if (fruitless >= MAX_FRUITLESS_TRIES) throw new Error(`${err.message}; gave up after ${fruitless} tries that brought nothing (the ${part.bytes} bytes so far are kept)`, { cause: err });
      if (fruitless > 0) await sleep(RETRY_DELAY_MS * fruitless, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
  const actual = part.hash.digest("hex");
  if (part.bytes !== size || actual !== wanted.sha256) {
    await rm(part.file, { force: true });
    throw new Error(`checksum mismatch for ${wanted.label}: expected sha256 ${wanted.sha256} (${size ?? "?"} bytes), got ${actual} (${part.bytes} bytes); the download was removed`);
  }
  const handle = await open(part.file, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(part.file, target);
}

/**
 * One request for what the part lacks; resolves with the file's size once
 * the part holds all of it. A broken connection or a 5xx is Interrupted (the
 * caller tries again from where the part got to); any other refusal is final.
 */
async function fetchRest(url: string, access: StoreAccess, part: Part, size: number | undefined, label: string, options: StorePullOptions): Promise<number> {
  if (size !== undefined && part.bytes === size) return size;
  const headers: Record<string, string> = part.bytes > 0 ? { range: `bytes=${part.bytes}-` } : {};
  const response = await call(url, access, headers, options.signal, label).catch((err: unknown) => {
    options.signal?.throwIfAborted();
    throw new Interrupted(`${label}: ${(err as Error).message}`, err);
  });
  const total = totalOf(response);
  if (response.status === 416 && total !== undefined && total === part.bytes) {
    // The part was whole already (the last try broke after its last byte).
    await response.body?.cancel();
    return total;
  }
  if (response.status >= 500 || response.status === 416) {
    await response.body?.cancel();
    // A 416 for a part longer than the file: start again from nothing.
    if (response.status === 416) await restart(part);
    throw new Interrupted(`download of ${label} from ${url}: HTTP ${response.status}`);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`download of ${label} from ${url} failed: ${refusal(response.status)}`);
  }
  const resumes = response.status === 206 && rangeStart(response) === part.bytes;
  if (response.status === 206 && !resumes) {
    // Some other range than the one asked: of no use; start again from nothing.
    const asked = part.bytes;
    await response.body.cancel();
    await restart(part);
    throw new Interrupted(`download of ${label} from ${url}: answered ${response.headers.get("content-range") ?? "a range"} to bytes=${asked}-`);
  }
  // A 200 is the whole file again.
  if (!resumes) await restart(part);
  const fileSize = total ?? size;
  if (fileSize === undefined) {
    await response.body.cancel();
    throw new Error(`download of ${label} from ${url}: the answer says neither the file's size nor its range`);
  }
  if (size !== undefined && fileSize !== size) {
    await response.body.cancel();
    throw new Error(`download of ${label}: the store's file is ${fileSize} bytes, its entry says ${size}`);
  }
  const report = () => options.onProgress?.({ file: label, receivedBytes: part.bytes, totalBytes: fileSize });
  report();
  // Each chunk is written before it is counted, so the part on disk is always what was hashed:
  // a connection that breaks leaves every byte it brought to resume from.
  const handle = await open(part.file, resumes ? "a" : "w", 0o644);
  try {
    const chunks = response.body[Symbol.asyncIterator]();
    for (;;) {
      const next = await chunks.next().catch((err: unknown) => {
        options.signal?.throwIfAborted();
        throw new Interrupted(`download of ${label} from ${url} broke off at ${part.bytes} of ${fileSize} bytes: ${causeOf(err)}`, err);
      });
      if (next.done === true) break;
      const chunk: Uint8Array = next.value as Uint8Array;
      await handle.write(chunk);
      part.hash.update(chunk);
      part.bytes += chunk.length;
      report();
    }
  } finally {
    await handle.close();
  }
  if (part.bytes < fileSize) throw new Interrupted(`download of ${label} from ${url} ended at ${part.bytes} of ${fileSize} bytes`);
  return fileSize;
}

/** The part as it is on disk, its bytes hashed again; one longer than the file is started afresh. */
async function resumePart(file: string, size: number | undefined): Promise<Part> {
  const bytes = await sizeOf(file);
  const hash = createHash("sha256");
  if (bytes === undefined || (size !== undefined && bytes > size)) {
    await rm(file, { force: true });
    return { file, bytes: 0, hash };
  }
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { file, bytes, hash };
}

async function restart(part: Part): Promise<void> {
  await rm(part.file, { force: true });
  part.bytes = 0;
  part.hash = createHash("sha256");
}

/** A try that may succeed if made again from where it got to. */
class Interrupted extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "Interrupted";
  }
}

function call(url: string, access: StoreAccess, headers: Record<string, string>, signal: AbortSignal | undefined, label: string): Promise<Response> {
  // No redirect is followed: the credential goes to the coordinator and nowhere else.
  return fetch(url, { headers: { ...headers, authorization: `Bearer ${access.credential}` }, redirect: "error", ...(signal ? { signal } : {}) }).catch((err: unknown) => {
    signal?.throwIfAborted();
    throw new Error(`${label}: could not reach the coordinator's model store at ${url}: ${causeOf(err)}`, { cause: err });
  });
}

function refusal(status: number): string {
  if (status === 401) return "HTTP 401: the coordinator refused this node's credential (has the node been removed? join again)";
  if (status === 404) return "HTTP 404: the store has no such file (was the model removed?)";
  return `HTTP ${status}`;
}

/** The file's size from `Content-Range: bytes a-b/size` (or `*\/size`), else a 200's Content-Length. */
function totalOf(response: Response): number | undefined {
  const range = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
  if (range?.[1] !== undefined) return Number(range[1]);
  if (response.status !== 200) return undefined;
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  return Number.isSafeInteger(length) ? length : undefined;
}

function rangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-\d+\/\d+$/.exec(response.headers.get("content-range") ?? "");
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function sizeOf(file: string): Promise<number | undefined> {
  return stat(file).then(
    (s) => s.size,
    () => undefined,
  );
}

/** Pulls of one file in this process, one at a time: a second waits for the first, then finds it in the cache. */
const pulling = new Map<string, Promise<unknown>>();

async function once<T>(target: string, run: () => Promise<T>): Promise<T> {
  for (let running = pulling.get(target); running !== undefined; running = pulling.get(target)) await running.catch(() => undefined);
  const pull = run();
  pulling.set(target, pull);
  try {
    return await pull;
  } finally {
    if (pulling.get(target) === pull) pulling.delete(target);
  }
}
