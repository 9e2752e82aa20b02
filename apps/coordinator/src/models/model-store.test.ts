import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { FlotillaError } from "@flotilla/protocol";
import { ModelStore } from "./model-store.ts";

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const weightsA = Buffer.from("GGUF weights of model A ".repeat(2000));
const weightsB = Buffer.from("GGUF weights of model B ".repeat(3000));

interface Warned {
  fields: object;
  message: string;
}

async function withStore(fn: (dir: string, store: ModelStore, warned: Warned[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-model-store-"));
  const warned: Warned[] = [];
  try {
    await fn(dir, await ModelStore.open(dir, { warn: (fields, message) => warned.push({ fields, message }) }), warned);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The body as an upload streams it in: in chunks. */
const body = (bytes: Buffer) => Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]);
const add = (store: ModelStore, name: string, bytes: Buffer, nowMs = 1_000) => store.add(name, body(bytes), bytes.length, nowMs);
const files = async (dir: string) => (await readdir(path.join(dir, "sha256"))).sort();

test("a model is kept under the sha256 of its bytes and named in the index", async () => {
  await withStore(async (dir, store) => {
    const added = await add(store, "tiny", weightsA, 1_234);
    assert.deepEqual(added, { model: { name: "tiny", sha256: sha(weightsA), size: weightsA.length, addedAtMs: 1_234 }, deduplicated: false, replacedSha256: null, created: true });
    assert.deepEqual(await readFile(path.join(dir, "sha256", sha(weightsA))), weightsA);
    assert.deepEqual(store.file(sha(weightsA)), { path: path.join(dir, "sha256", sha(weightsA)), size: weightsA.length });
    assert.equal(store.file(sha(weightsB)), undefined);
    const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")) as unknown;
    assert.deepEqual(index, { version: 1, models: [added.model] });
  });
});

test("the same bytes under two names are stored once, and go when the last name does", async () => {
  await withStore(async (dir, store) => {
    await add(store, "first", weightsA);
    const second = await add(store, "second", weightsA, 2_000);
    assert.equal(second.deduplicated, true);
    assert.equal(second.created, true);
    assert.deepEqual(await files(dir), [sha(weightsA)]);
    assert.deepEqual(store.list().map((m) => m.name), ["first", "second"]);
    const again = await add(store, "first", weightsA, 3_000);
    assert.deepEqual({ created: again.created, deduplicated: again.deduplicated, addedAtMs: again.model.addedAtMs }, { created: false, deduplicated: true, addedAtMs: 1_000 }, "the name keeps its age");

    assert.equal((await store.remove("first"))?.name, "first");
    assert.deepEqual(await files(dir), [sha(weightsA)], "still named by second");
    await store.remove("second");
    assert.deepEqual(await files(dir), []);
    assert.equal(await store.remove("second"), undefined);
  });
});

test("a name pointed at other bytes drops the old file when nothing else names it", async () => {
  await withStore(async (dir, store) => {
    await add(store, "brain", weightsA);
    const replaced = await add(store, "brain", weightsB, 5_000);
    assert.deepEqual({ created: replaced.created, replacedSha256: replaced.replacedSha256, addedAtMs: replaced.model.addedAtMs }, { created: false, replacedSha256: sha(weightsA), addedAtMs: 5_000 });
    assert.deepEqual(await files(dir), [sha(weightsB)]);
  });
});

test("uploads of one name at once leave one entry and only its file", async () => {
  await withStore(async (dir, store) => {
    await Promise.all([add(store, "race", weightsA), add(store, "race", weightsB), add(store, "other", weightsA)]);
    assert.deepEqual(store.list().map((m) => m.name), ["other", "race"]);
    const expected = new Set(store.list().map((m) => m.sha256));
    assert.deepEqual(await files(dir), [...expected].sort());
  });
});

test("bad names and empty bodies are refused before the body is read", async () => {
  await withStore(async (dir, store) => {
    for (const name of ["", "-dash", "has space", "a:b", "by-hash", "../up", "x".repeat(129), "naïve"]) {
      const unread = body(weightsA);
      await assert.rejects(store.add(name, unread, weightsA.length, 0), (err: unknown) => err instanceof FlotillaError && err.code === "invalid_request" && err.param === "name", name);
      assert.equal(unread.readableDidRead, false, `${name}: nothing read`);
    }
    await assert.rejects(store.add("empty", Readable.from([]), 0, 0), /the model file is empty/);
    assert.deepEqual(store.list(), []);
    assert.deepEqual(await files(dir), []);
  });
});

test("a body cut off halfway leaves nothing behind", async () => {
  await withStore(async (dir, store) => {
    const cut = new Readable({
      read() {
        this.push(weightsA.subarray(0, 100));
        this.destroy(new Error("aborted"));
      },
    });
    await assert.rejects(store.add("cut", cut, weightsA.length, 0), /aborted/);
    assert.deepEqual(store.list(), []);
    assert.deepEqual(await readdir(path.join(dir, "sha256")), [], "no temporary file either");
  });
});

test("the index survives a reopen, and a reopen tidies what a crash left", async () => {
  await withStore(async (dir, store, warned) => {
    await add(store, "kept", weightsA);
    await add(store, "lost", weightsB);
    // A crash: an index being written, an upload in flight, a file named by nothing, a file that went away.
    await writeFile(path.join(dir, ".index-123.tmp"), "{");
    await writeFile(path.join(dir, "sha256", ".upload-123"), "half");
    const orphan = Buffer.from("orphan");
    await writeFile(path.join(dir, "sha256", sha(orphan)), orphan);
    await rm(path.join(dir, "sha256", sha(weightsB)));

    const reopened = await ModelStore.open(dir, { warn: (fields, message) => warned.push({ fields, message }) });
    assert.deepEqual(reopened.list(), [store.get("kept")]);
    assert.deepEqual(await files(dir), [sha(weightsA)]);
    assert.deepEqual(await readdir(dir).then((names) => names.sort()), ["index.json", "sha256"]);
    assert.equal(warned.length, 1);
    assert.match(warned[0]?.message ?? "", /file missing/);
    assert.deepEqual((JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")) as { models: unknown[] }).models, [store.get("kept")]);
  });
});

test("an index that is not the store's refuses to open, naming the file", async () => {
  await withStore(async (dir) => {
    await writeFile(path.join(dir, "index.json"), JSON.stringify({ version: 1, models: [{ name: "x", sha256: "nope", size: 1, addedAtMs: 0 }] }));
    await assert.rejects(ModelStore.open(dir, { warn: () => {} }), /index\.json is not valid/);
    await writeFile(path.join(dir, "index.json"), "{ half");
    await assert.rejects(ModelStore.open(dir, { warn: () => {} }), /index\.json is not valid/);
  });
});
