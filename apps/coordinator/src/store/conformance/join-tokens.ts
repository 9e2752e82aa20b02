// What every JoinTokens promises (store/join-tokens.ts).
import assert from "node:assert/strict";
import type { FixtureTest } from "./fixture.ts";

export function joinTokensConformance(test: FixtureTest): void {
  test("a join token is spent once per use, and never after it expires", async ({ store }) => {
    const tokens = store.joinTokens;
    await tokens.add({ id: "t", expiresAtMs: 1_000, usesLeft: 2, createdAtMs: 0 }, "th");
    assert.equal(await tokens.usable("th", 5), true);
    assert.equal(await tokens.usable("th", 5), true, "looking does not spend it");
    assert.equal(await tokens.spend("th", 10), true);
    assert.equal(await tokens.spend("th", 20), true);
    assert.equal(await tokens.usable("th", 25), false);
    assert.equal(await tokens.spend("th", 30), false, "both uses are gone");
    await tokens.add({ id: "u", expiresAtMs: 1_000, usesLeft: 5, createdAtMs: 0 }, "uh");
    assert.equal(await tokens.usable("uh", 1_000), false, "expired at its expiry time");
    assert.equal(await tokens.spend("uh", 1_000), false, "expired at its expiry time");
    assert.equal(await tokens.spend("nope", 0), false);
  });

  test("a join token works until the millisecond before its expiry, and never again after", async ({ store }) => {
    const tokens = store.joinTokens;
    await tokens.add({ id: "t", expiresAtMs: 1_000, usesLeft: 3, createdAtMs: 0 }, "th");
    assert.equal(await tokens.usable("th", 999), true);
    assert.equal(await tokens.spend("th", 999), true);
    assert.equal(await tokens.usable("th", 1_000), false);
    assert.equal(await tokens.spend("th", 1_001), false, "uses left do not outlive the expiry");
    assert.equal(await tokens.usable("th", 1_001), false);
  });

  test("of agents racing for a token's uses, exactly `uses` win, and other tokens are untouched", async ({ store }) => {
    const tokens = store.joinTokens;
    await tokens.add({ id: "t", expiresAtMs: 1_000, usesLeft: 3, createdAtMs: 0 }, "th");
    await tokens.add({ id: "o", expiresAtMs: 1_000, usesLeft: 1, createdAtMs: 0 }, "other");
    const spent = await Promise.all(Array.from({ length: 10 }, () => tokens.spend("th", 10)));
    assert.equal(spent.filter(Boolean).length, 3);
    assert.equal(await tokens.usable("th", 10), false);
    assert.equal(await tokens.usable("other", 10), true);
    assert.equal(await tokens.spend("other", 10), true);
  });

  test("a token is found by its hash only", async ({ store }) => {
    await store.joinTokens.add({ id: "t", expiresAtMs: 1_000, usesLeft: 1, createdAtMs: 0 }, "th");
    assert.equal(await store.joinTokens.usable("t", 10), false, "the id is not the hash");
    assert.equal(await store.joinTokens.spend("t", 10), false);
    assert.equal(await store.joinTokens.usable("th", 10), true);
  });
}
