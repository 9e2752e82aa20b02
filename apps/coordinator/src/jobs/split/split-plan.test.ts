import { test } from "node:test";
import assert from "node:assert/strict";
import { splitJobInput } from "@flotilla/protocol";
import { chunkRequest, combineAnswers, splitLines } from "./split-plan.ts";

test("a text is cut into chunks of lines, in order; a final newline starts no empty chunk", () => {
  assert.deepEqual(splitLines("a\nb\nc\nd\ne\n", 2), ["a\nb", "c\nd", "e"]);
  assert.deepEqual(splitLines("a\r\nb", 10), ["a\nb"]);
  assert.deepEqual(splitLines("a\n\nb", 1), ["a", "", "b"], "a blank line inside is a line");
});

test("each chunk is asked as a chat with the template filled in", () => {
  const input = splitJobInput.parse({ commands: "x", model: "m", prompt_template: "Translate: {chunk} ({chunk})", max_tokens: 5 });
  assert.deepEqual(chunkRequest(input, "ls -la"), { model: "m", messages: [{ role: "user", content: "Translate: ls -la (ls -la)" }], max_tokens: 5 });
});

test("the answers are joined in chunk order and their usage summed", () => {
  const completion = (text: string, tokens: number) => ({
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: tokens, total_tokens: 1 + tokens },
  });
  const result = combineAnswers("m", [
    { jobId: "j1", response: completion("one", 2), nodes: ["a"] },
    { jobId: "j2", response: completion("two", 3), nodes: ["b"] },
    { jobId: "j3", response: { unexpected: true }, nodes: [] },
  ]);
  assert.equal(result.output, "one\ntwo\n");
  assert.deepEqual(result.chunks.map((c) => [c.index, c.job_id, c.output, c.nodes]), [[0, "j1", "one", ["a"]], [1, "j2", "two", ["b"]], [2, "j3", "", []]]);
  assert.deepEqual(result.usage, { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
});

test("a split input is refused when it would make too many chunks or its template has no {chunk}", () => {
  const many = splitJobInput.safeParse({ commands: "x\n".repeat(10_001), chunk_size: 1, model: "m" });
  assert.equal(many.success, false);
  assert.deepEqual(many.error?.issues[0]?.path, ["commands"]);
  assert.equal(splitJobInput.safeParse({ commands: "x\n".repeat(10_000), chunk_size: 1, model: "m" }).success, true);
  assert.deepEqual(splitJobInput.safeParse({ commands: "x", model: "m", prompt_template: "no slot" }).error?.issues[0]?.path, ["prompt_template"]);
});
