import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatTurn, GenerationInput, GenerationRequest } from "@flotilla/protocol";
import {
  COMPLEXITY_CLASSES,
  askOf,
  classifierInputOf,
  heuristicClassifier,
  instructionOf,
  type Classifier,
  type ComplexityClass,
} from "./classify.ts";
import { LABELLED_PROMPTS, prose, type LabelledPrompt, type Split } from "./labelled-prompts.ts";
import { CHAT_TURN_OVERHEAD, estimatePromptTokens, estimateTokens } from "./tokens.ts";

const chat = (...messages: ChatTurn[]): GenerationInput => ({ kind: "chat", messages });
const classify = (input: GenerationInput | string, maxTokens?: number) => {
  const i: GenerationInput = typeof input === "string" ? chat({ role: "user", content: input }) : input;
  return heuristicClassifier.classify({ input: i, promptTokens: estimatePromptTokens(i), maxTokens });
};

// --- token estimate --------------------------------------------------------------

test("tokens are estimated as characters / 4, rounded up, plus a few per chat turn", () => {
  assert.equal(estimateTokens(""), 0);
  assert.equal(estimateTokens("abcd"), 1);
  assert.equal(estimateTokens("abcde"), 2);
  assert.equal(estimatePromptTokens({ kind: "completion", prompt: "x".repeat(400) }), 100);
  assert.equal(
    estimatePromptTokens(chat({ role: "system", content: "x".repeat(40) }, { role: "user", content: "y".repeat(41) })),
    10 + 11 + 2 * CHAT_TURN_OVERHEAD,
  );
});

test("classifierInputOf reads the input, the estimate and max_tokens from a generation request", () => {
  const generation: GenerationRequest = {
    model: "m",
    input: { kind: "completion", prompt: "x".repeat(80) },
    params: { maxTokens: 64, temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
  };
  assert.deepEqual(classifierInputOf(generation), { input: generation.input, promptTokens: 20, maxTokens: 64 });
});

// --- the ask and its instruction ----------------------------------------------------

test("the ask is the last user message (the system prompt is not the ask), or the completion prompt", () => {
  const input = chat(
    { role: "system", content: "sys" },
    { role: "user", content: "first" },
    { role: "assistant", content: "answer" },
    { role: "user", content: "second" },
  );
  assert.deepEqual(askOf(input), { ask: "second", userTurns: 2 });
  assert.deepEqual(askOf({ kind: "completion", prompt: "p" }), { ask: "p", userTurns: 1 });
});

test("the instruction is a short first paragraph, else a short last one, never the pasted material", () => {
  assert.equal(instructionOf(`Summarise this:\n\n${prose(300)}`), "summarise this:");
  assert.equal(instructionOf(`${prose(300)}\n\nNow summarise the above.`), "now summarise the above.");
  assert.equal(instructionOf("Why does this fail?\n```js\nprove(x)\n```"), "why does this fail?\n");
  assert.equal(instructionOf("x".repeat(1000)).length, 400);
});

// --- features -----------------------------------------------------------------------------

test("a short question with no task words is SIMPLE", () => {
  const c = classify("What is the capital of Peru?");
  assert.equal(c.class, "SIMPLE");
  assert.match(c.reason, /a short ask with no task cues/);
});

test("a long system prompt does not make a short question harder", () => {
  const c = classify(chat({ role: "system", content: prose(400) }, { role: "user", content: "What time is it in Oslo?" }));
  assert.equal(c.class, "SIMPLE");
});

test("task words (explain, summarise, write an email, why, ...) make it MEDIUM", () => {
  for (const ask of ["Explain how DNS works.", "Write an email to my team about the outage.", "Why is the sky blue?", "How does a heat pump work?"]) {
    const c = classify(ask);
    assert.equal(c.class, "MEDIUM", ask);
    assert.match(c.reason, /task cue/);
  }
  assert.equal(classify("How do I make a directory in Linux?").class, "SIMPLE"); // "how do I": a quick how-to
});

test("words of complex work (prove, derive, design a, trade-offs, ...) make it COMPLEX", () => {
  for (const ask of ["Prove that the square root of 2 is irrational.", "Design a schema for a library system.", "What are the trade-offs of event sourcing?"]) {
    const c = classify(ask);
    assert.equal(c.class, "COMPLEX", ask);
    assert.match(c.reason, /strong cue/);
  }
  const weak = classify("Analyze and compare the two approaches.");
  assert.equal(weak.class, "COMPLEX");
  assert.match(weak.reason, /weak cue 'analyze', 'compare' \+4/);
});

test("asking for brevity pulls it down", () => {
  assert.equal(classify("Explain gravity in one sentence.").class, "SIMPLE");
  assert.match(classify("Explain gravity in one sentence.").reason, /brevity cue/);
});

test("a pasted text is work: at least MEDIUM; its own words do not count as the ask", () => {
  const c = classify(`Summarise this for me:\n\n${prose(300)}\n\nWe prove and derive the trade-offs.`);
  assert.equal(c.class, "MEDIUM");
  assert.doesNotMatch(c.reason, /strong cue/);
  assert.equal(classify(`Translate into German:\n\n${prose(60)}`).class, "MEDIUM");
});

test("several attached documents, or a book-sized ask, make it COMPLEX", () => {
  const papers = Array.from({ length: 3 }, (_, i) => `Paper ${i + 1}:\n${prose(200, i)}`).join("\n\n");
  const c = classify(`Summarise each of these:\n\n${papers}`);
  assert.equal(c.class, "COMPLEX");
  assert.match(c.reason, /3 documents/);
  assert.match(classify("Summarise these five articles for me.").reason, /5 documents/);
  assert.equal(classify(`Translate this:\n\n${prose(5000)}`).class, "COMPLEX");
});

test("code in the ask counts, and a lot of it counts more", () => {
  assert.match(classify("Fix this:\n```\nx = 1\n```").reason, /code \+1/);
  const big = `Tidy this:\n\`\`\`\n${"let x = 1;\n".repeat(150)}\`\`\``;
  assert.match(classify(big).reason, /lines \+1\.5/);
});

test("max_tokens: a tiny limit asks for a short answer, a large one for long work", () => {
  assert.equal(classify("Explain the history of Rome.", 5).class, "SIMPLE");
  assert.equal(classify("Explain the history of Rome.").class, "MEDIUM");
  assert.equal(classify("Explain the history of Rome.", 4000).class, "MEDIUM");
  assert.match(classify("Explain the history of Rome.", 4000).reason, /max_tokens 4000 \+2/);
  assert.equal(classify("Write the history of Rome in detail, then explain it.", 4000).class, "COMPLEX");
});

test("long instructions, long requirement lists, multi-step asks and long conversations add", () => {
  assert.match(classify("Build a tool with logging, metrics, retries, and a config file.").reason, /4-part requirement list \+1/);
  assert.match(classify("List the planets, then sort them by size.").reason, /multi-step ask 'then' \+1/);
  const long = `${"please ".repeat(30)}help`;
  assert.match(classify(long).reason, /31-word instruction \+1/);
  const turns: ChatTurn[] = [];
  for (let i = 0; i < 8; i++) turns.push({ role: "user", content: "and?" }, { role: "assistant", content: "yes" });
  assert.match(classify(chat(...turns)).reason, /8 user turns \+1/);
});

test("making something: a piece of work is MEDIUM, a whole program leans COMPLEX", () => {
  const email = classify("Turn these notes into an email: lunch moved to Friday.");
  assert.equal(email.class, "MEDIUM");
  assert.match(email.reason, /task cue 'turn these notes into an email'/);
  assert.equal(classify("Extract the email address from: 'mail bob@example.org'").class, "SIMPLE");
  assert.match(classify("Build a game of snake in Python.").reason, /weak cue 'build a game'/);
});

test("a list of five requirements, or three different things asked, add more", () => {
  assert.match(classify("Set up monitoring, alerting, logging, backups and failover.").reason, /5-part requirement list \+2/);
  assert.match(classify("Find the bug, fix it and explain why it happened.").reason, /3 things asked \(find, fix, explain\) \+2/);
});

test("a short question after pasted material is read as part of the ask", () => {
  const ask = `Here are the logs:\n\n${prose(400)}\n\nWhy does the service restart every night?`;
  assert.equal(instructionOf(ask), "here are the logs:\nwhy does the service restart every night?");
  assert.equal(instructionOf(`Here are the logs:\n\n${prose(400)}\n\nThanks.`), "here are the logs:");
});

test("a completion prompt is classified the same way", () => {
  assert.equal(classify({ kind: "completion", prompt: "Once upon a time" }).class, "SIMPLE");
  assert.equal(classify({ kind: "completion", prompt: "Prove Fermat's little theorem." }).class, "COMPLEX");
});

test("a classifier may answer later: the interface admits an async one (a small model on a tier-0 node)", async () => {
  const later: Classifier = { name: "model", classify: () => Promise.resolve({ class: "MEDIUM", reason: "asked the model" }) };
  const answer = await later.classify({ input: chat(), promptTokens: 0, maxTokens: undefined });
  assert.equal(answer.class, "MEDIUM");
  assert.equal(heuristicClassifier.name, "heuristic");
});

// --- accuracy on the labelled set -----------------------------------------------------------

interface Tally {
  total: number;
  wrong: number;
  simple: number;
  simpleKept: number;
  confusion: Record<ComplexityClass, Record<ComplexityClass, number>>;
}

function tally(items: readonly LabelledPrompt[]): Tally {
  const zero = (): Record<ComplexityClass, number> => ({ SIMPLE: 0, MEDIUM: 0, COMPLEX: 0 });
  const t: Tally = { total: 0, wrong: 0, simple: 0, simpleKept: 0, confusion: { SIMPLE: zero(), MEDIUM: zero(), COMPLEX: zero() } };
  for (const item of items) {
    const got = heuristicClassifier.classify({ input: item.input, promptTokens: estimatePromptTokens(item.input), maxTokens: item.maxTokens }).class;
    t.total++;
    t.confusion[item.label][got]++;
    if (got !== item.label) t.wrong++;
    if (item.label === "SIMPLE") {
      t.simple++;
      if (got === "SIMPLE") t.simpleKept++;
    }
  }
  return t;
}

const pct = (n: number, d: number): string => `${((100 * n) / d).toFixed(1)}%`;

function report(name: string, t: Tally): string[] {
  const lines = [
    `${name}: ${t.total} prompts, ${t.wrong} on the wrong tier (${pct(t.wrong, t.total)}), ` +
      `SIMPLE kept on tier 0: ${t.simpleKept}/${t.simple} (${pct(t.simpleKept, t.simple)})`,
    `  label \\ got   ${COMPLEXITY_CLASSES.map((c) => c.padStart(8)).join("")}`,
  ];
  for (const label of COMPLEXITY_CLASSES) {
    lines.push(`  ${label.padEnd(12)}  ${COMPLEXITY_CLASSES.map((got) => String(t.confusion[label][got]).padStart(8)).join("")}`);
  }
  return lines;
}

test("the heuristic meets the promise on the labelled prompts: ≤10% on the wrong tier, ≥90% of SIMPLE kept on tier 0", (t) => {
  const of = (...splits: Split[]) => LABELLED_PROMPTS.filter((p) => splits.includes(p.split));
  const all = tally(LABELLED_PROMPTS);
  const untuned = tally(of("holdout", "fresh"));
  const lines = [
    ...report("all", all),
    ...report("never tuned on (holdout + fresh)", untuned),
    ...report("fresh (written before the last round, scored once)", tally(of("fresh"))),
    ...report("tuned on (dev + late: optimistic)", tally(of("dev", "late"))),
  ];
  for (const line of lines) {
    console.log(line);
    t.diagnostic(line);
  }
  assert.ok(all.total >= 60);
  for (const [name, s] of [["all", all], ["never tuned on", untuned]] as const) {
    assert.ok(s.wrong / s.total <= 0.1, `${name}: ${pct(s.wrong, s.total)} on the wrong tier`);
    assert.ok(s.simpleKept / s.simple >= 0.9, `${name}: ${pct(s.simpleKept, s.simple)} of SIMPLE kept`);
  }
});
