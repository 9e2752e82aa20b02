// What every Conversations promises (store/conversations.ts).
import assert from "node:assert/strict";
import type { FixtureTest } from "./fixture.ts";

export function conversationsConformance(test: FixtureTest): void {
  test("turns are appended in order and survive a restart of the store", async (fixture) => {
    const first = fixture.store.conversations;
    assert.equal(await first.create("c1", "o", 10), true);
    assert.deepEqual(await first.turns("c1", "o", 50), [], "a new conversation has no turns");
    assert.equal(await first.append("c1", "o", [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }], 11), true);
    // Same millisecond: order still comes from the append, not the clock.
    assert.equal(await first.append("c1", "o", [{ role: "user", content: "again" }, { role: "assistant", content: "yes" }], 11), true);

    const second = (await fixture.reopen()).conversations;
    assert.deepEqual(await second.turns("c1", "o", 50), [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
      { role: "user", content: "again" },
      { role: "assistant", content: "yes" },
    ]);
  });

  test("a limit keeps the newest turns, oldest first", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("c", "o", 0);
    for (let i = 0; i < 5; i++) {
      await conversations.append("c", "o", [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }], i);
    }
    assert.deepEqual((await conversations.turns("c", "o", 3))?.map((t) => t.content), ["a3", "q4", "a4"]);
    assert.deepEqual(await conversations.turns("c", "o", 0), []);
    assert.equal((await conversations.turns("c", "o", 100))?.length, 10, "a limit above the count returns them all");
  });

  test("conversations are separate; an unknown id is null and cannot be appended to", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("a", "o", 0);
    await conversations.create("b", "o", 0);
    await conversations.append("a", "o", [{ role: "user", content: "for a" }], 1);
    assert.deepEqual(await conversations.turns("b", "o", 10), []);
    assert.equal(await conversations.turns("nope", "o", 10), null);
    assert.equal(await conversations.append("nope", "o", [{ role: "user", content: "x" }], 1), false);
    assert.equal(await conversations.turns("nope", "o", 10), null, "a refused append creates nothing");
    assert.equal(await conversations.create("a", "o", 2), false, "an id is taken once");
    assert.deepEqual((await conversations.turns("a", "o", 10))?.map((t) => t.content), ["for a"], "and keeps its turns");
  });

  test("every role comes back as it was said; appending no turns is allowed", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("c", "o", 0);
    const said = [
      { role: "system" as const, content: "be brief" },
      { role: "user" as const, content: "" },
      { role: "assistant" as const, content: "multi\nline ✓" },
    ];
    assert.equal(await conversations.append("c", "o", said, 1), true);
    assert.equal(await conversations.append("c", "o", [], 2), true);
    assert.deepEqual(await conversations.turns("c", "o", 10), said);
  });

  test("turns appended together stay together when appends race", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("c", "o", 0);
    const appended = await Promise.all(
      Array.from({ length: 8 }, (_, i) => conversations.append("c", "o", [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }], i)),
    );
    assert.deepEqual(appended, Array.from({ length: 8 }, () => true));
    const turns = (await conversations.turns("c", "o", 100)) ?? [];
    assert.equal(turns.length, 16);
    for (let i = 0; i < turns.length; i += 2) {
      assert.equal(turns[i + 1]?.content, `a${turns[i]?.content.slice(1)}`, "each question is followed by its own answer");
    }
  });

  test("a conversation answers only its owner: to others it does not exist", async ({ store }) => {
    const conversations = store.conversations;
    assert.equal(await conversations.create("c", "alice", 0), true);
    assert.equal(await conversations.append("c", "alice", [{ role: "user", content: "mine" }], 1), true);
    assert.equal(await conversations.turns("c", "bob", 10), null);
    assert.equal(await conversations.append("c", "bob", [{ role: "user", content: "theirs" }], 2), false);
    assert.equal(await conversations.create("c", "bob", 3), false, "the id stays taken for every owner");
    assert.equal(await conversations.remove("c", "bob"), false);
    assert.deepEqual((await conversations.turns("c", "alice", 10))?.map((t) => t.content), ["mine"], "nothing of bob's got in");
  });

  test("a conversation is removed by its owner or by anyone's removal, turns and all", async ({ store }) => {
    const conversations = store.conversations;
    await conversations.create("a", "alice", 0);
    await conversations.append("a", "alice", [{ role: "user", content: "x" }], 1);
    await conversations.create("b", "bob", 0);
    assert.equal(await conversations.remove("a", "alice"), true);
    assert.equal(await conversations.turns("a", "alice", 10), null);
    assert.equal(await conversations.remove("a", "alice"), false, "a second removal finds nothing");
    assert.equal(await conversations.remove("b", undefined), true, "no owner named: whoever owns it");
    assert.equal(await conversations.create("a", "carol", 2), true, "a removed id is free again");
    assert.deepEqual(await conversations.turns("a", "carol", 10), [], "and starts with none of the old turns");
  });

  test("conversations idle since the cutoff are removed; those written after stay", async (fixture) => {
    const conversations = fixture.store.conversations;
    await conversations.create("old", "o", 0);
    await conversations.append("old", "o", [{ role: "user", content: "x" }], 10);
    await conversations.create("kept", "o", 0);
    await conversations.append("kept", "o", [{ role: "user", content: "y" }], 30);
    await conversations.create("edge", "o", 20);
    assert.equal(await conversations.removeIdleSince(20), 1, "written at 10 < 20: removed; at 20 or after: kept");
    const reopened = (await fixture.reopen()).conversations;
    assert.equal(await reopened.turns("old", "o", 10), null);
    assert.deepEqual((await reopened.turns("kept", "o", 10))?.map((t) => t.content), ["y"]);
    assert.deepEqual(await reopened.turns("edge", "o", 10), []);
    assert.equal(await reopened.removeIdleSince(20), 0);
  });
}
