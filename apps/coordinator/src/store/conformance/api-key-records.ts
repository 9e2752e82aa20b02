// What every ApiKeyRecords promises (store/api-key-records.ts).
import assert from "node:assert/strict";
import { generateSecret, hashSecret } from "@flotilla/security";
import type { ApiKeyRecord } from "../api-key-records.ts";
import type { FixtureTest } from "./fixture.ts";

const laptop: ApiKeyRecord = { id: "k1", name: "laptop", prefix: "flt_abcd", createdAtMs: 1 };
const webui: ApiKeyRecord = { id: "k2", name: "webui", prefix: "flt_efgh", createdAtMs: 2 };

export function apiKeyRecordsConformance(test: FixtureTest): void {
  test("API keys are listed oldest first, as given, without their hashes", async ({ store }) => {
    await store.apiKeys.add(webui, "h2");
    await store.apiKeys.add(laptop, "h1");
    // Same time: the id decides, so the order never depends on insertion.
    await store.apiKeys.add({ id: "k0", name: "phone", prefix: "flt_ijkl", createdAtMs: 2 }, "h0");
    assert.deepEqual(await store.apiKeys.list(), [laptop, { id: "k0", name: "phone", prefix: "flt_ijkl", createdAtMs: 2 }, webui]);
    assert.deepEqual((await store.apiKeys.hashes()).sort(), ["h0", "h1", "h2"]);
  });

  test("a revoked API key is gone with its hash; revoking it again resolves false", async ({ store }) => {
    await store.apiKeys.add(laptop, "h1");
    await store.apiKeys.add(webui, "h2");
    assert.equal(await store.apiKeys.remove("k1"), true);
    assert.equal(await store.apiKeys.remove("k1"), false);
    assert.equal(await store.apiKeys.remove("nobody"), false);
    assert.deepEqual(await store.apiKeys.hashes(), ["h2"]);
    assert.deepEqual((await store.apiKeys.list()).map((k) => k.name), ["webui"]);
  });

  test("two API keys with the same hash are refused, the first kept", async ({ store }) => {
    await store.apiKeys.add({ id: "a", name: "a", prefix: "p", createdAtMs: 1 }, "same");
    await assert.rejects(store.apiKeys.add({ id: "b", name: "b", prefix: "p", createdAtMs: 1 }, "same"));
    assert.deepEqual((await store.apiKeys.list()).map((k) => k.id), ["a"]);
    assert.deepEqual(await store.apiKeys.hashes(), ["same"]);
  });

  test("nothing the store returns holds a key in clear, and a listed key holds no hash", async ({ store }) => {
    const secret = generateSecret("api");
    await store.apiKeys.add({ id: "k", name: "laptop", prefix: secret.slice(0, 8), createdAtMs: 1 }, hashSecret(secret));
    const listed = await store.apiKeys.list();
    assert.deepEqual(listed, [{ id: "k", name: "laptop", prefix: secret.slice(0, 8), createdAtMs: 1 }]);
    const everything = JSON.stringify([listed, await store.apiKeys.hashes()]);
    assert.equal(everything.includes(secret), false);
    assert.equal(JSON.stringify(listed).includes(hashSecret(secret)), false);
    assert.deepEqual(await store.apiKeys.hashes(), [hashSecret(secret)]);
  });
}
