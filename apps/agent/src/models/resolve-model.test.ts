// The hub download against a real HTTP server on loopback that behaves like
// the hub: a redirect carrying X-Linked-Etag, then the bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { resolveModel, type ResolveOptions } from "./resolve-model.ts";
import { parseModelSpec } from "./model-spec.ts";

const payload = Buffer.from("GGUF pretend weights ".repeat(5000));
const goodSha = createHash("sha256").update(payload).digest("hex");

async function hub(linkedEtag: string | undefined): Promise<{ server: Server; hits: string[]; endpoint: string }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url?.startsWith("/o/r/resolve/main/")) {
      res.writeHead(302, { location: "/cdn/blob", ...(linkedEtag ? { "x-linked-etag": `"${linkedEtag}"` } : {}) });
      res.end();
    } else if (req.url === "/cdn/blob") {
      res.writeHead(200, { "content-length": payload.length });
      res.end(payload);
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { server, hits, endpoint: `http://127.0.0.1:${address.port}` };
}

async function withCache(fn: (cacheDir: string) => Promise<void>): Promise<void> {
  const cacheDir = await mkdtemp(path.join(tmpdir(), "flotilla-cache-"));
  try {
    await fn(cacheDir);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

const source = parseModelSpec("hf:o/r/sub/m.gguf").source;

test("downloads once, verifies the sha256, reports progress, then serves from the cache", async () => {
  const { server, hits, endpoint } = await hub(goodSha);
  await withCache(async (cacheDir) => {
    const progress: number[] = [];
    const options: ResolveOptions = {
      cacheDir,
      hfEndpoint: endpoint,
      hfToken: undefined,
      onProgress: (p) => progress.push(p.receivedBytes),
    };
    const file = await resolveModel(source, options);
    assert.deepEqual(await readFile(file), payload);
    assert.equal(progress.at(-1), payload.length);
    const again = await resolveModel(source, options);
    assert.equal(again, file);
    assert.deepEqual(hits, ["/o/r/resolve/main/sub/m.gguf", "/cdn/blob"], "the second call used the cache");
  });
  server.close();
});

test("a checksum mismatch fails and leaves nothing in the cache", async () => {
  const { server, endpoint } = await hub("0".repeat(64));
  await withCache(async (cacheDir) => {
    await assert.rejects(
      resolveModel(source, { cacheDir, hfEndpoint: endpoint, hfToken: undefined }),
      /checksum mismatch for sub\/m\.gguf/,
    );
    const dir = path.join(cacheDir, "hf/o/r/main/sub");
    assert.deepEqual(await readdir(dir), []);
  });
  server.close();
});

test("a download with no published sha256 is refused", async () => {
  const { server, endpoint } = await hub(undefined);
  await withCache(async (cacheDir) => {
    await assert.rejects(resolveModel(source, { cacheDir, hfEndpoint: endpoint, hfToken: undefined }), /no sha256/);
  });
  server.close();
});

test("a missing local file is named in the error", async () => {
  await assert.rejects(
    resolveModel({ kind: "file", path: "/nope/x.gguf" }, { cacheDir: "/tmp", hfEndpoint: "", hfToken: undefined }),
    /model file not found or not readable: \/nope\/x\.gguf/,
  );
});

test("aborted mid-download, it rejects with the signal's reason and leaves no partial file", async () => {
  // The hub sends half the file, then holds the connection open.
  const stalled = createServer((req, res) => {
    if (req.url?.startsWith("/o/r/resolve/main/")) {
      res.writeHead(302, { location: "/cdn/blob", "x-linked-etag": `"${goodSha}"` }).end();
    } else {
      res.writeHead(200, { "content-length": payload.length });
      res.write(payload.subarray(0, payload.length / 2));
    }
  });
  stalled.listen(0, "127.0.0.1");
  await once(stalled, "listening");
  const address = stalled.address();
  assert.ok(address && typeof address === "object");
  await withCache(async (cacheDir) => {
    const controller = new AbortController();
    const reason = new Error("released");
    await assert.rejects(
      resolveModel(source, {
        cacheDir,
        hfEndpoint: `http://127.0.0.1:${address.port}`,
        hfToken: undefined,
        signal: controller.signal,
        onProgress: () => controller.abort(reason),
      }),
      (err) => err === reason,
    );
    assert.deepEqual(await readdir(path.join(cacheDir, "hf/o/r/main/sub")), []);
  });
  stalled.closeAllConnections();
  stalled.close();
});
