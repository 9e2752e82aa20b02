import { test } from "node:test";
import assert from "node:assert/strict";
import { chatCompletionRequest, completionRequest } from "@flotilla/protocol";
import { chatToGeneration, completionToGeneration } from "./translate.ts";

test("chat: developer becomes system, text parts are joined, null content is empty", () => {
  const body = chatCompletionRequest.parse({
    model: "m",
    messages: [
      { role: "developer", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hel" }, { type: "text", text: "lo" }] },
      { role: "assistant", content: null },
      { role: "tool", content: "42" },
    ],
    stop: "END",
    max_tokens: 7,
    max_completion_tokens: 9,
  });
  const g = chatToGeneration(body);
  assert.deepEqual(g.input, {
    kind: "chat",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "" },
      { role: "user", content: "42" },
    ],
  });
  assert.deepEqual(g.params.stop, ["END"]);
  assert.equal(g.params.maxTokens, 9, "max_completion_tokens wins over the older max_tokens");
});

test("completions default to 16 tokens, as OpenAI's do", () => {
  const g = completionToGeneration(completionRequest.parse({ model: "m", prompt: ["Once"] }));
  assert.deepEqual(g.input, { kind: "completion", prompt: "Once" });
  assert.equal(g.params.maxTokens, 16);
  assert.deepEqual(g.params.stop, []);
});
