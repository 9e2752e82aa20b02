// The input file's checks: each problem is named with its line number, which
// counts blank lines as an editor does; the body's own check is passed in
// (the real one, with the /v1 schemas, is tested in gateway/batches).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { FlotillaError, type JobKind } from "@flotilla/protocol";
import { readBatchLines, validateBatchInput, type ValidateBody } from "./batch-input.ts";

const line = (customId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: "m", messages: [{ role: "user", content: "hi" }] }, ...extra });

const seenKinds: JobKind[] = [];
const acceptAll: ValidateBody = (kind) => void seenKinds.push(kind);
const needsModel: ValidateBody = (_kind, body) => {
  if (typeof body !== "object" || body === null || !("model" in body)) throw new FlotillaError("invalid_request", "body.model: Required", { param: "body.model" });
};

const check = (text: string, validateBody: ValidateBody = acceptAll, maxLines?: number) =>
  validateBatchInput(readBatchLines(Readable.from([text])), { endpoint: "/v1/chat/completions", validateBody, ...(maxLines === undefined ? {} : { maxLines }) });

async function refusal(text: string, validateBody?: ValidateBody, maxLines?: number): Promise<FlotillaError> {
  try {
    await check(text, validateBody, maxLines);
  } catch (err) {
    assert.ok(err instanceof FlotillaError, String(err));
    assert.equal(err.status, 400);
    return err;
  }
  assert.fail("the input was accepted");
}

test("a valid file gives each request's line number and custom_id; blank lines are skipped but counted, CRLF too", async () => {
  const checked = await check(`${line("a")}\r\n\n${line("b")}\n   \n${line("c")}`);
  assert.deepEqual(checked.lines, [
    { line: 1, customId: "a" },
    { line: 3, customId: "b" },
    { line: 5, customId: "c" },
  ]);
  assert.ok(seenKinds.every((k) => k === "chat"));
});

test("each kind of bad line is a 400 that names its line", async () => {
  const ok = line("a");
  assert.match((await refusal(`${ok}\n{"custom_id": "b",`)).message, /^line 2: not valid JSON$/);
  assert.match((await refusal(`${ok}\n[1,2]`)).message, /^line 2: a line must be a JSON object/);
  assert.match((await refusal(`${ok}\n\n${line("b", { method: "GET" })}`)).message, /^line 3: method: /);
  assert.match((await refusal(`${line("", {})}`)).message, /^line 1: custom_id: /);
  assert.match((await refusal(`${ok}\n${line("b", { url: "/v1/images/generations" })}`)).message, /^line 2: url: "\/v1\/images\/generations" is not an endpoint batches call/);
  assert.match((await refusal(`${ok}\n${line("b", { url: "/v1/embeddings" })}`)).message, /^line 2: url: \/v1\/embeddings is not the batch's endpoint \/v1\/chat\/completions/);
  assert.match((await refusal(`${ok}\n${line("b", { extra: 1 })}`)).message, /^line 2: /, "an unknown key is refused, not ignored");
  const body = await refusal(`${ok}\n${line("b", { body: { messages: [] } })}`, needsModel);
  assert.equal(body.message, "line 2: body.model: Required");
  assert.equal(body.param, "body.model");
});

test("custom_ids are unique in a file; the second use names both lines", async () => {
  const err = await refusal(`${line("a")}\n${line("b")}\n${line("a")}`);
  assert.equal(err.message, 'line 3: custom_id "a" is already used on line 1; each request needs its own');
});

test("at most maxLines requests, and at least one", async () => {
  await check(`${line("a")}\n${line("b")}`, acceptAll, 2);
  assert.match((await refusal(`${line("a")}\n${line("b")}\n${line("c")}`, acceptAll, 2)).message, /^line 3: a batch holds at most 2 requests/);
  assert.match((await refusal("\n\n")).message, /holds no request lines/);
});

test("a body over the job input bound is refused on its line", async () => {
  const big = line("a", { body: { model: "m", messages: [{ role: "user", content: "x".repeat(1024 * 1024 + 10) }] } });
  assert.match((await refusal(big)).message, /^line 1: body: over 1048576 bytes of JSON/);
});
