import { test } from "node:test";
import assert from "node:assert/strict";
import { finishReasonOf, joinUrl } from "./dialect.ts";
import { openaiUrl } from "./openai-dialect.ts";

test("paths join under the base URL, keeping its path prefix and dropping its query", () => {
  assert.equal(joinUrl("http://10.0.0.5:11434", "/api/tags").href, "http://10.0.0.5:11434/api/tags");
  assert.equal(joinUrl("http://10.0.0.5:11434/", "api/tags").href, "http://10.0.0.5:11434/api/tags");
  assert.equal(joinUrl("http://box.lan/ollama//", "/api/chat").href, "http://box.lan/ollama/api/chat");
  assert.equal(joinUrl("http://box.lan/x?token=1#frag", "api/tags").href, "http://box.lan/x/api/tags");
});

test("an OpenAI base URL is taken with or without its /v1", () => {
  assert.equal(openaiUrl("http://10.0.0.5:8000", "models").href, "http://10.0.0.5:8000/v1/models");
  assert.equal(openaiUrl("http://10.0.0.5:8000/v1", "models").href, "http://10.0.0.5:8000/v1/models");
  assert.equal(openaiUrl("http://10.0.0.5:8000/v1/", "chat/completions").href, "http://10.0.0.5:8000/v1/chat/completions");
  assert.equal(openaiUrl("http://box.lan/lmstudio", "completions").href, "http://box.lan/lmstudio/v1/completions");
});

test("a length cut-off and tool calls are told apart; every other reason is a stop", () => {
  assert.equal(finishReasonOf("length"), "length");
  assert.equal(finishReasonOf("tool_calls"), "tool_calls");
  for (const reason of ["stop", "eos", "content_filter", "load", "unload"]) assert.equal(finishReasonOf(reason), "stop");
});
