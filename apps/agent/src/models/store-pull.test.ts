// Pulls from a real HTTP server on loopback that answers as the
// coordinator's model store does (a name's ref, a file by hash with Range
// requests) and can be told to misbehave: cut the connection mid-file, send
// other bytes than the hash says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { resolveModel, type ResolveOptions } from "./resolve-model.ts";
import { parseModelSource } from "./model-spec.ts";

const payload = randomBytes(512 * 1024 + 3);
const sha = createHash("sha256").update(payload).digest("hex");
const CREDENTIAL = "flt_node_test-credential";

interface Hit {
  url: string;
  range: string | undefined;
}

interface Behaviour {
  /** Cut the connection after this many bytes of the answer, for the first N answers that send the file. */
  cutAfterBytes?: number;
  cuts?: number;
  /** When to cut, once those bytes are sent (default: as soon as they are flushed). */
  cutWhen?: () => Promise<void>;
  /** Send this many bytes of the first answer, then nothing more, the connection held open. */
  stallAfterBytes?: number;
  /** Send these bytes as the file instead. */
  body?: Buffer;
}

async function store(behaviour: Behaviour = {}) {
  const hits: Hit[] = [];
  let cutsLeft = behaviour.cuts ?? 0;
  let stalls = behaviour.stallAfterBytes === undefined ? 0 : 1;
  const bytes = behaviour.body ?? payload;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits.push({ url: req.url ?? "", range: req.headers.range });
    if (req.headers.authorization !== `Bearer ${CREDENTIAL}`) return void res.writeHead(401).end("{}");
    if (req.url === "/cluster/models/tiny/ref") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ name: "tiny", sha256: sha, size: payload.length, addedAtMs: 1 }));
    }
    if (req.url !== `/cluster/models/by-hash/${sha}`) return void res.writeHead(404).end("{}");
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? "")?.[1] ?? 0);
    if (start >= bytes.length) return void res.writeHead(416, { "content-range": `bytes */${bytes.length}` }).end();
    const part = bytes.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      "content-length": part.length,
      "accept-ranges": "bytes",
      ...(start > 0 ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    if (stalls > 0 && behaviour.stallAfterBytes !== undefined) {
      stalls--;
      res.write(part.subarray(0, behaviour.stallAfterBytes));
      return;
    }
    if (cutsLeft > 0 && behaviour.cutAfterBytes !== undefined) {
      cutsLeft--;
      // Sent, then the connection dropped under it: the client sees a body that stops short.
      res.write(part.subarray(0, behaviour.cutAfterBytes), () => void (behaviour.cutWhen ?? (() => Promise.resolve()))().then(() => res.socket?.destroy()));
      return;
    }
    res.end(part);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  const url = `http://127.0.0.1:${address.port}`;
  const close = () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // fetch keeps its connections alive; a stalled answer holds one open.
    server.closeAllConnections();
    return closed;
  };
  return { hits, url, close };
}

/** Runs `fn` with a cache folder and a store that behaves so; both go afterwards, whatever happened. */
async function withStore(behaviour: (cacheDir: string) => Behaviour, fn: (cacheDir: string, server: Awaited<ReturnType<typeof store>>) => Promise<void>): Promise<void> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), "flotilla-store-pull-"));
  const server = await store(behaviour(cacheDir));
  try {
    await fn(cacheDir, server);
  } finally {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** Resolves once the pull's part file holds at least `bytes`: polled, the size is the condition. */
async function partHolds(cacheDir: string, bytes: number): Promise<void> {
  const part = path.join(cacheDir, "store", `${sha}.part`);
  const deadline = Date.now() + 10_000;
  while (((await stat(part).catch(() => undefined))?.size ?? 0) < bytes) {
    if (Date.now() > deadline) throw new Error(`the part never held ${bytes} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const options = (cacheDir: string, url: string, extra: Partial<ResolveOptions> = {}): ResolveOptions => ({
  cacheDir,
  hfEndpoint: "",
  hfToken: undefined,
  store: () => ({ url, credential: CREDENTIAL }),
  ...extra,
});
const byName = parseModelSource("store:tiny");

test("cut off mid-file, the pull resumes with a Range request, verifies and keeps the file for next time", async () => {
  const behaviour = (cacheDir: string): Behaviour => ({ cutAfterBytes: 200_000, cuts: 1, cutWhen: () => partHolds(cacheDir, 100_000) });
  await withStore(behaviour, async (cacheDir, server) => {
    const progress: number[] = [];
    const file = await resolveModel(byName, options(cacheDir, server.url, { onProgress: (p) => progress.push(p.receivedBytes) }));
    assert.equal(file, path.join(cacheDir, "store", sha));
    assert.deepEqual(await readFile(file), payload);
    const downloads = server.hits.filter((hit) => hit.url.includes("by-hash"));
    assert.equal(downloads.length, 2);
    assert.equal(downloads[0]?.range, undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(downloads[1]?.range ?? "")?.[1]);
    assert.ok(resumedAt >= 100_000 && resumedAt <= 200_000, `resumed from the bytes it had: ${downloads[1]?.range}`);
    assert.equal(progress.at(-1), payload.length);
    assert.deepEqual(await readdir(path.join(cacheDir, "store")), [sha], "no .part left");

    // Next time: the name is looked up again, the file is not downloaded again.
    server.hits.length = 0;
    assert.equal(await resolveModel(byName, options(cacheDir, server.url)), file);
    assert.deepEqual(server.hits.map((hit) => hit.url), ["/cluster/models/tiny/ref"]);
  });
});

test("aborted halfway, the bytes so far are kept and the next pull asks only for the rest", async () => {
  await withStore(() => ({ stallAfterBytes: 300_000 }), async (cacheDir, server) => {
    const controller = new AbortController();
    const reason = new Error("released");
    const pulled = resolveModel(byName, options(cacheDir, server.url, { signal: controller.signal }));
    await partHolds(cacheDir, 100_000);
    controller.abort(reason);
    await assert.rejects(pulled, (err) => err === reason);
    const kept = (await stat(path.join(cacheDir, "store", `${sha}.part`))).size;
    assert.ok(kept >= 100_000 && kept <= 300_000, `kept ${kept} bytes`);
    server.hits.length = 0;
    const file = await resolveModel(byName, options(cacheDir, server.url));
    assert.deepEqual(await readFile(file), payload);
    assert.deepEqual(server.hits.filter((hit) => hit.url.includes("by-hash")).map((hit) => hit.range), [`bytes=${kept}-`]);
  });
});

test("bytes that are not the hash fail verification and nothing is kept", async () => {
  const corrupted = Buffer.from(payload);
  corrupted[1234] = (corrupted[1234] ?? 0) ^ 0xff;
  const behaviour = (cacheDir: string): Behaviour => ({ body: corrupted, cutAfterBytes: 100_000, cuts: 1, cutWhen: () => partHolds(cacheDir, 50_000) });
  await withStore(behaviour, async (cacheDir, server) => {
    await assert.rejects(resolveModel(byName, options(cacheDir, server.url)), new RegExp(`checksum mismatch for store:tiny: expected sha256 ${sha}`));
    assert.deepEqual(await readdir(path.join(cacheDir, "store")), []);
    assert.equal(server.hits.filter((hit) => hit.range !== undefined).length, 1, "it had resumed before it verified");
  });
});

test("a bare hash needs no lookup; its size comes with the file", async () => {
  await withStore(() => ({}), async (cacheDir, server) => {
    const file = await resolveModel(parseModelSource(`store:sha256:${sha}`), options(cacheDir, server.url));
    assert.deepEqual(await readFile(file), payload);
    assert.deepEqual(server.hits.map((hit) => hit.url), [`/cluster/models/by-hash/${sha}`]);
  });
});

test("refusals say what to do: not joined, an unknown name, a refused credential, a server that keeps failing", async () => {
  await withStore(() => ({ cutAfterBytes: 0, cuts: 100 }), async (cacheDir, server) => {
    await assert.rejects(resolveModel(byName, options(cacheDir, server.url, { store: () => undefined })), /has not joined a coordinator/);
    await assert.rejects(resolveModel(parseModelSource("store:other"), options(cacheDir, server.url)), /has no model named other \(`flotilla models add FILE --name other`/);
    await assert.rejects(resolveModel(byName, options(cacheDir, server.url, { store: () => ({ url: server.url, credential: "wrong" }) })), /refused this node's credential/);
    await assert.rejects(resolveModel(byName, options(cacheDir, server.url)), /gave up after 4 tries that brought nothing/);
  });
});

test("store: sources are parsed strictly", () => {
  assert.deepEqual(parseModelSource("store:stories260K"), { kind: "store", name: "stories260K" });
  assert.deepEqual(parseModelSource(`store:sha256:${sha}`), { kind: "store-sha256", sha256: sha });
  assert.throws(() => parseModelSource("store:sha256:ABC"), /64 lower-case hexadecimal digits/);
  assert.throws(() => parseModelSource("store:"), /store:NAME takes a name/);
  assert.throws(() => parseModelSource("store:../x"), /store:NAME takes a name/);
  assert.throws(() => parseModelSource("store:by-hash"), /store:NAME takes a name/);
});
