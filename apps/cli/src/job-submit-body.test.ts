// What `jobs submit` sends for each kind, and the combinations it refuses before sending.
import { test } from "node:test";
import assert from "node:assert/strict";
import { submitBody, UsageError } from "./job-submit-body.ts";

test("a prompt goes where each kind's input wants it; text kinds default to any model", () => {
  assert.deepEqual(submitBody({ kind: "chat", prompt: "hi", maxTokens: 8 }), {
    kind: "chat",
    input: { model: "auto", messages: [{ role: "user", content: "hi" }], max_tokens: 8 },
  });
  assert.deepEqual(submitBody({ kind: "completion", prompt: "Once", model: "m" }).input, { model: "m", prompt: "Once" });
  assert.deepEqual(submitBody({ kind: "embedding", prompt: "x" }).input, { model: "auto", input: "x" });
  assert.deepEqual(submitBody({ kind: "image", prompt: "a fox" }).input, { prompt: "a fox" });
  assert.deepEqual(submitBody({ kind: "speech", prompt: "hello", model: "kokoro" }).input, { input: "hello", model: "kokoro" });
});

test("the options become the body's fields, in its names", () => {
  const body = submitBody({
    kind: "image",
    inputJson: '{"prompt":"a fox","n":2}',
    pool: "vision-2",
    priority: "high",
    idempotencyKey: "k1",
    maxAttempts: 5,
    webhook: "https://example.org/hook",
  });
  assert.deepEqual(body, {
    kind: "image",
    input: { prompt: "a fox", n: 2 },
    pool: "vision-2",
    priority: "high",
    idempotency_key: "k1",
    max_attempts: 5,
    webhook: "https://example.org/hook",
  });
});

test("refused before sending, each with the flag to fix", () => {
  const refused = (flags: Parameters<typeof submitBody>[0], pattern: RegExp) =>
    assert.throws(() => submitBody(flags), (err: unknown) => err instanceof UsageError && pattern.test(err.message));
  refused({ kind: "chat" }, /give --prompt, or the whole input/);
  refused({ kind: "chat", prompt: "x", inputJson: "{}" }, /--prompt and --input do not go together/);
  refused({ kind: "chat", model: "m", inputJson: "{}", inputSource: "--input-file a.json" }, /--model and --input-file a\.json/);
  refused({ kind: "chat", inputJson: "{nope" }, /--input is not JSON/);
  refused({ kind: "split", prompt: "x" }, /split job's input has more than a prompt/);
  refused({ kind: "image", prompt: "x", maxTokens: 3 }, /--max-tokens does not apply to image/);
  refused({ kind: "chat", prompt: "x", pool: "Not A Pool!" }, /^--pool: /);
  refused({ kind: "chat", prompt: "x", webhook: "ftp://x" }, /^--webhook: /);
});
