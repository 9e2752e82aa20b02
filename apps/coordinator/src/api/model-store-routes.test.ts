// The model store's routes over real HTTP on loopback, through the real
// coordinator: uploads as raw streams past the body limit and the request
// timeout (bounded by progress instead), range downloads, HEAD, and the
// refusals. A node credential's part is in tests/e2e/model-store.test.ts,
// with a real agent that joined.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { once } from "node:events";
import { pino } from "pino";
import { addModelResponse, storedModel, storedModelsResponse } from "@flotilla/protocol";
import { generateSecret } from "@flotilla/security";
import { createCoordinator, type Coordinator } from "../index.ts";
import { DEFAULT_ALLOWED_NETWORKS } from "../config/url-policy.ts";

/** Larger than the body limit below: the upload route must not be bound by it. */
const MODEL = randomBytes(3 * 1024 * 1024 + 17);
const MODEL_SHA = createHash("sha256").update(MODEL).digest("hex");
const BODY_LIMIT = 1024 * 1024;
/** Short, so that an upload paced over longer than it shows it is not cut. */
const BODY_TIMEOUT_MS = 400;

describe("the model store's routes", () => {
  let dataDir: string;
  let coordinator: Coordinator;
  let url: string;
  const adminKey = generateSecret("admin");
  const auth = { authorization: `Bearer ${adminKey}` };

  /** A PUT of `chunks`, each written `paceMs` after the last, with the whole length declared. */
  const upload = async (name: string, chunks: Buffer[], options: { paceMs?: number; headers?: Record<string, string>; chunked?: true } = {}): Promise<{ status: number; body: string }> => {
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const req = httpRequest(`${url}/cluster/models/${name}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/octet-stream", ...(options.chunked ? {} : { "content-length": String(total) }), ...options.headers },
    });
    // An empty value stands for no such header.
    for (const [header, value] of Object.entries(options.headers ?? {})) if (value === "") req.removeHeader(header);
    const answered = once(req, "response") as Promise<[IncomingMessage]>;
    for (const chunk of chunks) {
      req.write(chunk);
      if (options.paceMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
    req.end();
    const [res] = await answered;
    let body = "";
    for await (const chunk of res) body += String(chunk);
    return { status: res.statusCode ?? 0, body };
  };
  const get = (route: string, headers: Record<string, string> = {}, method = "GET") => fetch(`${url}${route}`, { method, headers: { ...auth, ...headers } });

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-model-routes-"));
    coordinator = await createCoordinator({
      dataDir,
      adminKeyFromEnv: adminKey,
      bodyLimitBytes: BODY_LIMIT,
      heartbeatIntervalMs: 60_000,
      allowedNetworks: DEFAULT_ALLOWED_NETWORKS,
      httpLimits: { headersTimeoutMs: 200, bodyTimeoutMs: BODY_TIMEOUT_MS, maxBodyBytesInFlight: BODY_LIMIT * 2 },
      logger: pino({ level: "silent" }),
    });
    url = await coordinator.app.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("an upload larger than the body limit, paced over longer than the request timeout, is stored", async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => MODEL.subarray((i * MODEL.length) / 8, ((i + 1) * MODEL.length) / 8));
    const startedMs = Date.now();
    const added = await upload("big", chunks, { paceMs: 120 });
    assert.ok(Date.now() - startedMs > BODY_TIMEOUT_MS * 2, "it took longer than the timeout");
    assert.equal(added.status, 201, added.body);
    const answer = addModelResponse.parse(JSON.parse(added.body));
    assert.deepEqual({ sha256: answer.model.sha256, size: answer.model.size, deduplicated: answer.deduplicated }, { sha256: MODEL_SHA, size: MODEL.length, deduplicated: false });
    const again = await upload("big-too", [MODEL]);
    assert.equal(again.status, 201);
    assert.equal(addModelResponse.parse(JSON.parse(again.body)).deduplicated, true);
    const listed = storedModelsResponse.parse(await (await get("/cluster/models")).json());
    assert.deepEqual(listed.models.map((m) => [m.name, m.sha256]), [["big", MODEL_SHA], ["big-too", MODEL_SHA]]);
  });

  test("an upload that stops sending is cut once idle for the body timeout, and nothing is kept", async () => {
    const req = httpRequest(`${url}/cluster/models/stalled`, { method: "PUT", headers: { ...auth, "content-type": "application/octet-stream", "content-length": String(MODEL.length) } });
    // The server closes the connection: no answer, so "close" (after an "error") is the end of it.
    const closed = new Promise((resolve) => req.once("close", resolve));
    req.on("error", () => {});
    req.write(MODEL.subarray(0, 1000));
    await closed;
    assert.equal((await get("/cluster/models/stalled/ref")).status, 404);
    // The server removes its temporary file as the cut reaches it: polled until gone, or this fails.
    const deadline = Date.now() + 5_000;
    while ((await readdir(path.join(dataDir, "model-store", "sha256"))).some((name) => name.startsWith("."))) {
      assert.ok(Date.now() < deadline, "the cut upload's temporary file is still there");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  test("an upload must be octet-stream, declare its length and have a valid name", async () => {
    const json = await upload("x", [Buffer.from("{}")], { headers: { "content-type": "application/json" } });
    assert.equal(json.status, 415, json.body);
    assert.match(json.body, /application\/octet-stream/);
    const chunked = await upload("x", [Buffer.from("GGUF")], { chunked: true });
    assert.equal(chunked.status, 400, chunked.body);
    assert.match(chunked.body, /Content-Length/);
    for (const name of ["by-hash", "a:b", "-x"]) {
      const bad = await upload(encodeURIComponent(name), [Buffer.from("GGUF")]);
      assert.equal(bad.status, 400, `${name}: ${bad.body}`);
      assert.equal((JSON.parse(bad.body) as { error: { param: string } }).error.param, "name");
    }
    const empty = await upload("empty", []);
    assert.equal(empty.status, 400);
    // As `curl -T FILE` sends it: no Content-Type at all.
    const untyped = await upload("untyped", [Buffer.from("GGUF untyped")], { headers: { "content-type": "" } });
    assert.equal(untyped.status, 201, untyped.body);
    assert.equal((await get("/cluster/models/untyped", {}, "DELETE")).status, 204);
  });

  test("a download serves the whole file, a range, a suffix, HEAD, and 416 past the end", async () => {
    const route = `/cluster/models/by-hash/${MODEL_SHA}`;
    const whole = await get(route);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    assert.equal(whole.headers.get("etag"), `"${MODEL_SHA}"`);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), MODEL);

    const tail = await get(route, { range: "bytes=1000000-" });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers.get("content-range"), `bytes 1000000-${MODEL.length - 1}/${MODEL.length}`);
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), MODEL.subarray(1_000_000));

    const middle = await get(route, { range: "bytes=10-19" });
    assert.equal(middle.status, 206);
    assert.equal(middle.headers.get("content-length"), "10");
    assert.deepEqual(Buffer.from(await middle.arrayBuffer()), MODEL.subarray(10, 20));

    const suffix = await get(route, { range: "bytes=-5" });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), MODEL.subarray(MODEL.length - 5));

    const several = await get(route, { range: "bytes=0-1,5-6" });
    assert.equal(several.status, 200);
    assert.equal(Number(several.headers.get("content-length")), MODEL.length);
    await several.body?.cancel();

    const head = await get(route, { range: "bytes=100-" }, "HEAD");
    assert.equal(head.status, 206);
    assert.equal(head.headers.get("content-length"), String(MODEL.length - 100));
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    const past = await get(route, { range: `bytes=${MODEL.length}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${MODEL.length}`);
    assert.equal(((await past.json()) as { error: { param: string } }).error.param, "range");
  });

  test("a name's ref, unknown names and hashes, removal, and the credential check", async () => {
    const ref = storedModel.parse(await (await get("/cluster/models/big/ref")).json());
    assert.equal(ref.sha256, MODEL_SHA);
    assert.equal((await get("/cluster/models/nope/ref")).status, 404);
    assert.equal((await get(`/cluster/models/by-hash/${"0".repeat(64)}`)).status, 404);
    assert.equal((await get("/cluster/models/by-hash/not-a-hash")).status, 400);
    assert.equal((await fetch(`${url}/cluster/models/by-hash/${MODEL_SHA}`)).status, 401);
    assert.equal((await fetch(`${url}/cluster/models`, { headers: { authorization: "Bearer nope" } })).status, 401);
    assert.equal((await get("/cluster/models/big", {}, "POST")).status, 405);

    assert.equal((await get("/cluster/models/big", {}, "DELETE")).status, 204);
    assert.equal((await get(`/cluster/models/by-hash/${MODEL_SHA}`, { range: "bytes=0-0" })).status, 206, "still named by big-too");
    assert.equal((await get("/cluster/models/big-too", {}, "DELETE")).status, 204);
    assert.equal((await get(`/cluster/models/by-hash/${MODEL_SHA}`)).status, 404);
    assert.equal((await get("/cluster/models/big", {}, "DELETE")).status, 404);
    assert.deepEqual((await readdir(path.join(dataDir, "model-store", "sha256"))).filter((name) => !name.startsWith(".")), []);
  });
});
