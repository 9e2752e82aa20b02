// What every Conversations promises (store/conversations.ts).
import assert from "node:assert/strict";
import type { FixtureTest } from "./fixture.ts";

export function conversationsConformance(test: FixtureTest): void {
  test("turns are appended in order and survive a restart of the store", async (fixture) => {
    const first = fixture.store.conversations;
    assert.equal(await first.create("c1", 10), true);
    assert.deepEqual(await first.turns("c1", 50), [], "a new conversation has no turns");
    assert.equal(await first.append("c1", [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }], 11), true);
    // Same millisecond: order still comes from the append, not the clock.
    assert.equal(await first.append("c1", [{ role: "user", content: "again" }, { role: "assistant", content: "yes" }], 11), true);

    const second = (await fixture.reopen()).conversations;
    assert.deepEqual(await second.turns("c1", 50), [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "again" },
      { role: "assistant", content: "yes" },
    ]);
  });

  test("a limit keeps the newest turns, oldest first", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("c", 0);
    for (let i = 0; i < 5; i++) {
      await conversations.append("c", [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }], i);
    }
    assert.deepEqual((await conversations.turns("c", 3))?.map((t) => t.content), ["a3", "q4", "a4"]);
    assert.deepEqual(await conversations.turns("c", 0), []);
    assert.equal((await conversations.turns("c", 100))?.length, 10, "a limit above the count returns them all");
  });

  test("conversations are separate; an unknown id is null and cannot be appended to", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("a", 0);
    await conversations.create("b", 0);
    await conversations.append("a", [{ role: "user", content: "for a" }], 1);
    assert.deepEqual(await conversations.turns("b", 10), []);
    assert.equal(await conversations.turns("nope", 10), null);
    assert.equal(await conversations.append("nope", [{ role: "user", content: "x" }], 1), false);
    assert.equal(await conversations.turns("nope", 10), null, "a refused append creates nothing");
    assert.equal(await conversations.create("a", 2), false, "an id is taken once");
    assert.deepEqual((await conversations.turns("a", 10))?.map((t) => t.content), ["for a"], "and keeps its turns");
  });

  test("every role comes back as it was said; appending no turns is allowed", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("c", 0);
    const said = [
      { role: "system" as const, content: "be brief" },
      { role: "user" as const, content: "" },
      { role: "assistant" as const, content: "multi\nline ✓" },
    ];
    assert.equal(await conversations.append("c", said, 1), true);
    assert.equal(await conversations.append("c", [], 2), true);
    assert.deepEqual(await conversations.turns("c", 10), said);
  });

  test("turns appended together stay together when appends race", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("c", 0);
    const appended = await Promise.all(
      Array.from({ length: 8 }, (_, i) => conversations.append("c", [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }], i)),
    );
    assert.deepEqual(appended, Array.from({ length: 8 }, () => true));
    const turns = (await conversations.turns("c", 100)) ?? [];
    assert.equal(turns.length, 16);
    for (let i = 0; i < turns.length; i += 2) {
      assert.equal(turns[i + 1]?.content, `a${turns[i]?.content.slice(1)}`, "each question is followed by its own answer");
    }
  });
}
