import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { BodyBudget, bodyBudgetHooks } from "./body-budget.ts";

const request = (headers: IncomingHttpHeaders) => ({ headers, raw: new EventEmitter() as IncomingMessage });
const refuse = () => new Error("busy");

test("the budget takes what it can hold and nothing more", () => {
  const budget = new BodyBudget(10);
  assert.equal(budget.take(6), true);
  assert.equal(budget.take(5), false);
  assert.equal(budget.heldBytes, 6);
  budget.give(6);
  assert.equal(budget.take(10), true);
  assert.throws(() => new BodyBudget(0));
});

test("a declared length is taken up front, refused when it does not fit, and given back once parsed or gone", () => {
  const budget = new BodyBudget(100);
  const hooks = bodyBudgetHooks(budget, refuse);
  const a = request({ "content-length": "60" });
  const body = Readable.from([]);
  assert.equal(hooks.preParsing(a, body), body, "a declared body is read as it is");
  assert.equal(budget.heldBytes, 60);
  assert.throws(() => hooks.preParsing(request({ "content-length": "50" }), body), /busy/);
  assert.equal(budget.heldBytes, 60, "a refused request takes nothing");
  hooks.preValidation(a);
  assert.equal(budget.heldBytes, 0);
  const b = request({ "content-length": "70" });
  hooks.preParsing(b, body);
  b.raw.emit("close");
  b.raw.emit("close");
  assert.equal(budget.heldBytes, 0, "a request that goes away gives its bytes back, once");
  hooks.preParsing(request({ "content-length": "0" }), body);
  assert.equal(budget.heldBytes, 0, "no body, nothing taken");
});

test("a declared body over the body limit takes nothing: the server's own 413 answers it, not a 503 to retry", () => {
  const budget = new BodyBudget(100);
  const hooks = bodyBudgetHooks(budget, refuse, 50);
  const body = Readable.from([]);
  assert.equal(hooks.preParsing(request({ "content-length": "500" }), body), body);
  assert.equal(budget.heldBytes, 0);
});

test("a body sent in chunks takes each chunk; one past the budget fails its stream", async () => {
  const budget = new BodyBudget(10);
  const hooks = bodyBudgetHooks(budget, refuse);
  const small = request({ "transfer-encoding": "chunked" });
  assert.equal(await text(hooks.preParsing(small, Readable.from([Buffer.from("abc"), Buffer.from("def")]))), "abcdef");
  assert.equal(budget.heldBytes, 6);
  hooks.preValidation(small);
  assert.equal(budget.heldBytes, 0);
  const big = request({ "transfer-encoding": "chunked" });
  await assert.rejects(text(hooks.preParsing(big, Readable.from([Buffer.from("123456"), Buffer.from("789012")]))), /busy/);
  big.raw.emit("close");
  assert.equal(budget.heldBytes, 0);
});
