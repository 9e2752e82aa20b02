// The model-backed classifier: what it asks, how it reads the answer, and
// that every way of not getting a class leaves the heuristic's in place.
// `ask` is scripted here (the e2e test asks a real model on a real agent).
import { test } from "node:test";
import assert from "node:assert/strict";
import { classInAnswer, classifierPrompt, CLASSIFIER_EXCERPT_CHARS, ModelClassifier } from "./model-classifier.ts";
import { heuristicClassifier, type ClassifierInput } from "./classify.ts";

const input = (content: string, maxTokens?: number): ClassifierInput => ({
  input: { kind: "chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content }] },
  promptTokens: Math.ceil(content.length / 4),
  maxTokens,
});

test("the prompt shows the ask (cut when long) and the sizes, not the system turn", () => {
  const prompt = classifierPrompt(input("Compare these ten papers", 900));
  assert.match(prompt, /Compare these ten papers/);
  assert.match(prompt, /1 user turn\(s\)/);
  assert.match(prompt, /up to 900 tokens/);
  assert.doesNotMatch(prompt, /Be brief/);
  const long = classifierPrompt(input("x".repeat(CLASSIFIER_EXCERPT_CHARS * 3)));
  assert.ok(long.length < CLASSIFIER_EXCERPT_CHARS + 600, "a long ask is cut");
  assert.match(long, /\[…\]/);
});

test("the class is the first class name standing as a word, in any case", () => {
  assert.equal(classInAnswer("COMPLEX"), "COMPLEX");
  assert.equal(classInAnswer(" medium."), "MEDIUM");
  assert.equal(classInAnswer("Simple, not complex"), "SIMPLE");
  assert.equal(classInAnswer("SIMPLEST"), undefined);
  assert.equal(classInAnswer("Once upon a time"), undefined);
});

test("an answer with a class decides, and the reason names the model and node", async () => {
  let asked = "";
  const classifier = new ModelClassifier({
    model: "tiny",
    timeoutMs: 1_000,
    ask: (prompt) => {
      asked = prompt;
      return Promise.resolve({ text: "COMPLEX", node: "pi-1" });
    },
  });
  const result = await classifier.classify(input("What's 2+2?"));
  assert.equal(result.class, "COMPLEX", "the model overrides the heuristic (which says SIMPLE)");
  assert.equal(result.reason, "asked tiny on pi-1");
  assert.match(asked, /What's 2\+2\?/);
});

test("no class, an error, or a timeout: the heuristic's class, and the reason says why", async () => {
  const ask = input("Summarize this paper in five paragraphs.", 800);
  const heuristic = heuristicClassifier.classify(ask).class;
  const cases = [
    { ask: () => Promise.resolve({ text: "Once upon a time", node: "n" }), why: /asked tiny on n, no class in its answer; heuristic: score/ },
    { ask: () => Promise.reject(new Error("no node can take this request now")), why: /could not ask tiny: no node can take this request now; heuristic/ },
    {
      ask: (_: string, signal: AbortSignal) =>
        new Promise<{ text: string; node: string }>((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("timed out")))),
      why: /could not ask tiny: timed out/,
    },
  ];
  for (const c of cases) {
    const result = await new ModelClassifier({ model: "tiny", timeoutMs: 30, ask: c.ask }).classify(ask);
    assert.equal(result.class, heuristic);
    assert.match(result.reason, c.why);
  }
});
