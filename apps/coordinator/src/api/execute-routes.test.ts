// POST /cluster/execute in-process: a real SQLite store holds the
// conversations; the dispatcher is a fake that records what it was asked
// and answers (or fails) as each test tells it, since what is checked here is
// what the route builds and stores, not how a node generates.
import { afterEach, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { FlotillaError, toOpenAIErrorBody, type GenerationRequest } from "@flotilla/protocol";
import type { DispatchRequest, DispatchResult, GenerationDispatcher } from "../dispatch/types.ts";
import type { ChosenRoute } from "../router/decision.ts";
import { toFlotillaError } from "../gateway/errors.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { MAX_HISTORY_TURNS, registerExecuteRoutes } from "./execute-routes.ts";
import { callerOf } from "./conversation-owner.ts";

const ADMIN_KEY = "flt_admin_test";
const DAY_MS = 86_400_000;
/** The owner a request without a key gets: the route's tests run with keys required. */
const ANONYMOUS = "open";

type Answer = (request: DispatchRequest) => Promise<DispatchResult>;

/** Records every request; answers "answer N" from node "desk" (tier 1) unless told otherwise. */
class FakeDispatcher implements GenerationDispatcher {
  readonly requests: DispatchRequest[] = [];
  answer: Answer = (request) => Promise.resolve(result(`answer ${this.requests.length}`, request));

  run(request: DispatchRequest): Promise<DispatchResult> {
    this.requests.push(request);
    return this.answer(request);
  }
}

function decision(overrides: Partial<ChosenRoute> = {}): ChosenRoute {
  return {
    kind: "chosen",
    class: "SIMPLE",
    tier: 1,
    node: "desk",
    model: "stories260K",
    candidates: [],
    steps: [],
    affinity: false,
    promptTokens: 3,
    neededTokens: 19,
    full: false,
    ...overrides,
  };
}

function result(text: string, _request: DispatchRequest, overrides: Partial<DispatchResult> = {}): DispatchResult {
  return {
    result: { kind: "generation", text, finishReason: "stop", promptTokens: 5, completionTokens: 2 },
    decision: decision(),
    nodes: ["desk"],
    failedTries: 0,
    resumed: false,
    ...overrides,
  };
}

interface ExecuteAnswer {
  conversation_id: string;
  answer: string;
  node: string | null;
  tier: number | null;
  class: string;
  model: string | null;
  resumed: boolean;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface ErrorAnswer {
  error: { message: string; param: string | null; code: string };
}

describe("POST /cluster/execute", () => {
  let dir: string;
  let store: SqliteStore;
  let dispatcher: FakeDispatcher;
  let app: FastifyInstance;
  let now: number;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-execute-"));
    store = new SqliteStore(path.join(dir, "flotilla.db"));
    dispatcher = new FakeDispatcher();
    app = Fastify();
    // The gateway's error edge (src/app.ts), so statuses and bodies are the real ones.
    app.setErrorHandler((err, request, reply) => {
      const failure = toFlotillaError(err, request.log);
      return reply.code(failure.status).send(toOpenAIErrorBody(failure));
    });
    now = 1_000;
    registerExecuteRoutes(app, {
      dispatcher,
      conversations: store.conversations,
      // The real naming of callers, keys taken as already checked (app.ts checks them).
      callerOf: (request) =>
        callerOf({ keysRequired: true, token: request.headers.authorization?.replace(/^Bearer /, ""), isAdminKey: (token) => token === ADMIN_KEY }),
      conversationTtlMs: 30 * DAY_MS,
      nowMs: () => now,
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const execute = (payload: unknown, key?: string) =>
    app.inject({
      method: "POST",
      url: "/cluster/execute",
      payload: payload as Record<string, unknown>,
      ...(key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } }),
    });
  const remove = (id: string, key?: string) =>
    app.inject({ method: "DELETE", url: `/cluster/conversations/${id}`, ...(key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } }) });

  test("a new conversation is created, and its turns are sent, in order, with each later query", async () => {
    const first = await execute({ query: "Hello", context: "Be brief." });
    assert.equal(first.statusCode, 200, first.body);
    const one = first.json<ExecuteAnswer>();
    assert.match(one.conversation_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...one, conversation_id: "" },
      {
        conversation_id: "",
        answer: "answer 1",
        node: "desk",
        tier: 1,
        class: "SIMPLE",
        model: "stories260K",
        resumed: false,
        finish_reason: "stop",
        usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
      },
    );

    const second = await execute({ query: "And then?", conversation_id: one.conversation_id });
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(second.json<ExecuteAnswer>().conversation_id, one.conversation_id);
    const third = await execute({ query: "The end?", conversation_id: one.conversation_id, context: "Answer in French." });
    assert.equal(third.statusCode, 200, third.body);

    const sent = dispatcher.requests.map((r) => (r.workload.input.kind === "chat" ? r.workload.input.messages : []));
    assert.deepEqual(sent[0], [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
    ]);
    // The context belongs to its query alone: it is not stored with the turns.
    assert.deepEqual(sent[1], [
      { role: "user", content: "Hello" },
      { role: "assistant", content: "answer 1" },
      { role: "user", content: "And then?" },
    ]);
    assert.deepEqual(sent[2], [
      { role: "system", content: "Answer in French." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "answer 1" },
      { role: "user", content: "And then?" },
      { role: "assistant", content: "answer 2" },
      { role: "user", content: "The end?" },
    ]);
    // The conversation is its own session, so it stays on the node holding its cache.
    assert.deepEqual(
      dispatcher.requests.map((r) => r.hints.session),
      [one.conversation_id, one.conversation_id, one.conversation_id],
    );
    const request = dispatcher.requests[0];
    assert.ok(request);
    assert.equal(request.workload.model, "", "no model: the router's default");
    assert.equal((request.workload as GenerationRequest).params.maxTokens, undefined);
    assert.equal(request.priority, "normal");
  });

  test("only the newest turns are sent with a long conversation", async () => {
    await store.conversations.create("long", ANONYMOUS, 0);
    for (let i = 0; i < MAX_HISTORY_TURNS; i++) await store.conversations.append("long", ANONYMOUS, [{ role: i % 2 === 0 ? "user" : "assistant", content: `t${i}` }], i);
    await store.conversations.append("long", ANONYMOUS, [{ role: "user", content: "newest" }], 100);
    const res = await execute({ query: "q", conversation_id: "long" });
    assert.equal(res.statusCode, 200, res.body);
    const input = dispatcher.requests[0]?.workload.input;
    assert.ok(input?.kind === "chat");
    assert.equal(input.messages.length, MAX_HISTORY_TURNS + 1);
    assert.equal(input.messages[0]?.content, "t1", "the oldest turn is the one left out");
    assert.deepEqual(input.messages.slice(-2).map((m) => m.content), ["newest", "q"]);
  });

  test("prefer_tier, tier_fallback, model and max_tokens become the dispatch's hints and params", async () => {
    assert.equal((await execute({ query: "a", prefer_tier: 0 })).statusCode, 200);
    assert.equal((await execute({ query: "b", prefer_tier: 2, tier_fallback: false, model: "big", max_tokens: 8 })).statusCode, 200);
    assert.equal((await execute({ query: "c", prefer_tier: null })).statusCode, 200);
    const [a, b, c] = dispatcher.requests;
    assert.deepEqual(a?.hints.forceTier, { tier: 0, fallback: true });
    assert.deepEqual(b?.hints.forceTier, { tier: 2, fallback: false });
    assert.equal(b?.workload.model, "big");
    assert.equal((b?.workload as GenerationRequest | undefined)?.params.maxTokens, 8);
    assert.equal(c?.hints.forceTier, undefined);
  });

  test("the answer names the node that answered, and whether it was resumed", async () => {
    dispatcher.answer = (request) =>
      Promise.resolve(
        result("done", request, { decision: decision({ node: "rack", tier: 2, class: "COMPLEX", model: "big" }), nodes: ["rack", "desk"], resumed: true }),
      );
    const res = await execute({ query: "Prove it.", prefer_tier: 2 });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<ExecuteAnswer>();
    assert.deepEqual([body.node, body.tier, body.class, body.model, body.resumed], ["rack", 2, "COMPLEX", "big", true]);
  });

  test("an unknown conversation is 404 and nothing is dispatched", async () => {
    const res = await execute({ query: "hi", conversation_id: "no-such-conversation" });
    assert.equal(res.statusCode, 404);
    const body = res.json<ErrorAnswer>();
    assert.equal(body.error.code, "not_found");
    assert.equal(body.error.param, "conversation_id");
    assert.equal(dispatcher.requests.length, 0);
  });

  test("a bad body is 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{}, "query"],
      [{ query: "   " }, "query"],
      [{ query: "hi", prefer_tier: 7 }, "prefer_tier"],
      [{ query: "hi", timeout: 0 }, "timeout"],
      [{ query: "hi", timeout: 601 }, "timeout"],
      [{ query: "hi", max_tokens: 1.5 }, "max_tokens"],
      [{ query: "hi", conversation_id: "" }, "conversation_id"],
    ];
    for (const [payload, field] of cases) {
      const res = await execute(payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      const body = res.json<ErrorAnswer>();
      assert.equal(body.error.code, "invalid_request");
      assert.equal(body.error.param, field, JSON.stringify(payload));
      assert.match(body.error.message, new RegExp(`^${field}: `));
    }
    // A misspelt field is refused, not ignored (which would start a new conversation).
    const misspelt = await execute({ query: "hi", conversationId: "abc" });
    assert.equal(misspelt.statusCode, 400);
    assert.match(misspelt.json<ErrorAnswer>().error.message, /conversationId/);
    assert.equal(dispatcher.requests.length, 0);
  });

  test("a failed query leaves the conversation unchanged, and a failed first query stores none", async () => {
    const first = (await execute({ query: "one" })).json<ExecuteAnswer>();
    dispatcher.answer = () => Promise.reject(new FlotillaError("no_backend", "no node serves the model"));
    const failed = await execute({ query: "two", conversation_id: first.conversation_id });
    assert.equal(failed.statusCode, 503);
    assert.equal(failed.json<ErrorAnswer>().error.code, "no_backend");
    assert.deepEqual(await store.conversations.turns(first.conversation_id, ANONYMOUS, 10), [
      { role: "user", content: "one" },
      { role: "assistant", content: "answer 1" },
    ]);
    assert.equal((await execute({ query: "fresh" })).statusCode, 503);
    const sessions = dispatcher.requests.map((r) => r.hints.session ?? "");
    const freshId = sessions[2] ?? "";
    assert.notEqual(freshId, first.conversation_id);
    assert.equal(await store.conversations.turns(freshId, ANONYMOUS, 10), null, "no conversation was created for it");
  });

  test("a query past its timeout is aborted and answered 504, storing nothing", async () => {
    dispatcher.answer = (request) =>
      new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(new FlotillaError("backend_error", "aborted")), { once: true }));
    const res = await execute({ query: "slow", timeout: 0.05 });
    assert.equal(res.statusCode, 504);
    const body = res.json<ErrorAnswer>();
    assert.equal(body.error.code, "timeout");
    assert.equal(body.error.param, "timeout");
    assert.equal(dispatcher.requests[0]?.signal.aborted, true, "the dispatcher was told to stop");
    assert.equal(await store.conversations.turns(dispatcher.requests[0]?.hints.session ?? "", ANONYMOUS, 10), null);
  });

  test("a conversation answers only the key that started it: to another key it is 404, as an unknown id is", async () => {
    const started = await execute({ query: "secret plans" }, "flt_key_alice");
    assert.equal(started.statusCode, 200, started.body);
    const id = started.json<ExecuteAnswer>().conversation_id;

    const stolen = await execute({ query: "what were we saying?", conversation_id: id }, "flt_key_bob");
    assert.equal(stolen.statusCode, 404);
    const unknown = await execute({ query: "x", conversation_id: "no-such-id" }, "flt_key_bob");
    // The same answer as for an id that never existed: trying ids tells nothing.
    assert.deepEqual(
      { ...stolen.json<ErrorAnswer>().error, message: stolen.json<ErrorAnswer>().error.message.replace(id, "ID") },
      { ...unknown.json<ErrorAnswer>().error, message: unknown.json<ErrorAnswer>().error.message.replace("no-such-id", "ID") },
    );
    assert.equal((await execute({ query: "mine?", conversation_id: id })).statusCode, 404, "nor does open mode's owner get it");
    assert.equal((await execute({ query: "mine?", conversation_id: id }, ADMIN_KEY)).statusCode, 404, "the admin key deletes, it does not read");
    assert.equal(dispatcher.requests.length, 1, "nothing was dispatched for the others");

    const continued = await execute({ query: "go on", conversation_id: id }, "flt_key_alice");
    assert.equal(continued.statusCode, 200, continued.body);
    const input = dispatcher.requests[1]?.workload.input;
    assert.ok(input?.kind === "chat");
    assert.deepEqual(input.messages.map((m) => m.content), ["secret plans", "answer 1", "go on"], "the owner's history, untouched by the others");
  });

  test("DELETE /cluster/conversations/{id}: the owner or the admin key deletes it; another key gets 404", async () => {
    const ids: string[] = [];
    for (const query of ["one", "two"]) ids.push((await execute({ query }, "flt_key_alice")).json<ExecuteAnswer>().conversation_id);
    const [first = "", second = ""] = ids;

    const byOther = await remove(first, "flt_key_bob");
    assert.equal(byOther.statusCode, 404);
    assert.equal(byOther.json<ErrorAnswer>().error.code, "not_found");
    assert.equal((await remove(first, "flt_key_alice")).statusCode, 204);
    assert.equal((await execute({ query: "again", conversation_id: first }, "flt_key_alice")).statusCode, 404, "its turns are gone");
    assert.equal((await remove(first, "flt_key_alice")).statusCode, 404, "a second delete finds nothing");
    assert.equal((await remove(second, ADMIN_KEY)).statusCode, 204, "the admin key may delete anyone's");
    assert.equal(await store.conversations.turns(second, "admin", 10), null);
    const other = await app.inject({ method: "GET", url: `/cluster/conversations/${second}` });
    assert.equal(other.statusCode, 405);
    assert.equal(other.headers.allow, "DELETE");
  });

  test("a conversation idle for longer than the TTL is deleted; one in use is kept", async () => {
    const idle = (await execute({ query: "left alone" }, "flt_key_alice")).json<ExecuteAnswer>().conversation_id;
    const busy = (await execute({ query: "kept busy" }, "flt_key_alice")).json<ExecuteAnswer>().conversation_id;
    now += 20 * DAY_MS;
    assert.equal((await execute({ query: "still here", conversation_id: busy }, "flt_key_alice")).statusCode, 200);
    now += 11 * DAY_MS;
    // 31 days since `idle` was last written, 11 since `busy` was.
    const expired = await execute({ query: "hello?", conversation_id: idle }, "flt_key_alice");
    assert.equal(expired.statusCode, 404);
    assert.equal(await store.conversations.turns(idle, "key:anything", 10), null);
    assert.equal((await execute({ query: "and you?", conversation_id: busy }, "flt_key_alice")).statusCode, 200);
  });

  test("other methods are 405", async () => {
    const res = await app.inject({ method: "GET", url: "/cluster/execute" });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, "POST");
  });
});
