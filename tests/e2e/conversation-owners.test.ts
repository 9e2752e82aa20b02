// /cluster/execute's conversations on a real `flotilla up` serving the real
// test model: a conversation answers only the key that started it, its owner
// or the admin deletes it, and open mode has one owner of its own
// (docs/adr/0026).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startFlotilla, testModelPath, type FlotillaProcess } from "@flotilla/testkit";

interface Answer {
  status: number;
  body: { conversation_id?: string; error?: { code: string } };
}

describe("conversation owners", () => {
  let fl: FlotillaProcess;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
  });
  after(() => fl.stop());

  const call = async (method: string, path: string, key: string | undefined, body?: object): Promise<Answer> => {
    const res = await fetch(`${fl.url}${path}`, {
      method,
      headers: { ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.status === 204 ? {} : ((await res.json()) as Answer["body"]) };
  };
  const ask = (key: string | undefined, conversationId?: string) =>
    call("POST", "/cluster/execute", key, { query: "Once upon a time", max_tokens: 4, ...(conversationId === undefined ? {} : { conversation_id: conversationId }) });

  test("open mode, then keys: each conversation answers its own key only; owner and admin delete", async () => {
    // Open mode: no key exists, every caller is the same owner.
    const open = await ask(undefined);
    assert.equal(open.status, 200, JSON.stringify(open.body));
    const openId = open.body.conversation_id ?? "";
    assert.equal((await ask(undefined, openId)).status, 200, "open mode continues its own conversations");

    const keyOf = async (name: string) => {
      const made = await call("POST", "/cluster/keys", fl.adminKey, { name });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      return (made.body as { key: string }).key;
    };
    const alice = await keyOf("alice");
    const bob = await keyOf("bob");

    const mine = await ask(alice);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    const id = mine.body.conversation_id ?? "";
    assert.equal((await ask(alice, id)).status, 200);
    const stolen = await ask(bob, id);
    assert.equal(stolen.status, 404);
    assert.equal(stolen.body.error?.code, "not_found");
    assert.equal((await ask(alice, openId)).status, 404, "a key cannot take over what open mode started");

    assert.equal((await call("DELETE", `/cluster/conversations/${id}`, bob)).status, 404, "another key cannot delete it");
    assert.equal((await call("DELETE", `/cluster/conversations/${id}`, alice)).status, 204);
    assert.equal((await ask(alice, id)).status, 404, "deleted: gone for its owner too");
    assert.equal((await call("DELETE", `/cluster/conversations/${openId}`, fl.adminKey)).status, 204, "the admin key deletes any");
    assert.equal((await call("DELETE", `/cluster/conversations/${openId}`, undefined)).status, 401, "once keys exist, a key is needed");
  });
});
