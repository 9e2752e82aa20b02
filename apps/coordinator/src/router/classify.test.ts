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
import { HEAD_CHARS, TAIL_CHARS, lineCount, viewOf } from "./ask-text.ts";
import { longDocument } from "./labelled-documents.ts";
import { HELD_OUT, LABELLED_PROMPTS, prose, type LabelledPrompt, type Split } from "./labelled-prompts.ts";
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

// --- long asks: one document, one program -------------------------------------------------

test("one long document with a plain ask is MEDIUM, before or after the text; judging it, or several texts, is COMPLEX", () => {
  const paper = longDocument("paper", 3000);
  for (const ask of [`Summarize this:\n\n${paper}`, `${paper}\n\nWhat is the main finding?`, `Extract the methods.\n\n${paper}`, `${prose(6000)}\n\nTL;DR?`]) {
    assert.equal(classify(ask).class, "MEDIUM", ask.slice(0, 40));
  }
  assert.equal(classify(`Could you summarise this for me?\n\n${paper}`).class, "MEDIUM"); // politeness, not a hypothesis
  assert.equal(classify(`Summarise this log:\n${"GET /api/items 200 12ms\n".repeat(2_000)}`).class, "MEDIUM"); // no blank line after the ask
  // The size points alone would make it COMPLEX; the rule says why it is not.
  assert.match(classify(`Summarize this:\n\n${prose(6000)}`).reason, /one document, plain ask: MEDIUM -/);
  // A tiny max_tokens does not make thousands of tokens cheap to read.
  assert.equal(classify(`Is this paper about quantisation? Answer yes or no.\n\n${paper}`, 3).class, "MEDIUM");
  assert.equal(classify(`Critically evaluate the methodology of this paper.\n\n${paper}`).class, "COMPLEX");
  assert.equal(classify(`Translate this paper into German:\n\n${paper}`, 8000).class, "COMPLEX");
  assert.equal(classify(`${paper}\n\nWhich of its results would hold on GPUs, and why?`).class, "COMPLEX");
});

test("a pasted text that opens like an ask (\"This Agreement...\", \"From: ...?\") is material: the closing question is the instruction", () => {
  const contract = longDocument("contract", 2500, { titled: false });
  assert.match(contract, /^This Master Services Agreement/);
  assert.equal(instructionOf(`${contract}\n\nWho are the parties?`), "who are the parties?");
  const emails = longDocument("emails", 2500, { titled: false });
  assert.match(emails.split("\n\n")[0] ?? "", /^From: .*\?$/s);
  assert.equal(instructionOf(`${emails}\n\nWhen is the launch date now?`), "when is the launch date now?");
  // An opening request still wins over a question that ends the pasted text.
  assert.match(instructionOf(`Turn this thread into a plan.\n\n${emails}`), /^turn this thread into a plan\./);
});

test("five or more requirements for one program are COMPLEX, as a list or inline; a few for one function stay MEDIUM", () => {
  const items = ["watches a folder", "validates each file", "loads rows into PostgreSQL", "retries with backoff", "logs as JSON", "has tests"];
  const script = classify(`Write a Python script that:\n${items.map((i) => `- ${i}`).join("\n")}`);
  assert.equal(script.class, "COMPLEX");
  assert.match(script.reason, /6-item requirement list \+2, one program, 6 requirements \+1\.5/);
  assert.equal(classify(`Requirements for the CLI:\n${items.map((i, n) => `${n + 1}. ${i}`).join("\n")}\n\nWrite it in Go.`).class, "COMPLEX");
  assert.equal(classify(`Build a web scraper that ${items.slice(0, 5).join(", ")} and ${items[5] ?? ""}.`).class, "COMPLEX");
  assert.equal(classify("Write a function that:\n- takes a list of orders\n- groups them by customer\n- returns the totals").class, "MEDIUM");
  assert.equal(classify("Implement an LRU cache class with get, put, a max size, and O(1) operations, plus tests.").class, "MEDIUM");
  // A bulleted list that is not code to write is not requirements.
  assert.equal(classify("Which of these are prime?\n- 7\n- 9\n- 11\n- 15\n- 21").class, "SIMPLE");
});

test("a list to sort, rank or add is data, not requirements", () => {
  for (const ask of ["Alphabetize: pears, apples, kiwis, figs, plums, dates", "Rank these by size: cat, horse, mouse, elephant, dog, ant", "Add bread, eggs, butter, jam and coffee to the shopping list"]) {
    const c = classify(ask);
    assert.equal(c.class, "SIMPLE", ask);
    assert.doesNotMatch(c.reason, /requirement list/);
  }
  assert.match(classify("Set up monitoring, alerting, logging, backups and failover.").reason, /5-part requirement list \+2/);
});

// --- bounded cost: only the start and the end of a long ask are read ---------------------------

test("a long ask is read as its first 8 KB and its last 2 KB; a short one whole", () => {
  const short = "x".repeat(HEAD_CHARS + TAIL_CHARS);
  assert.deepEqual(viewOf(short), { head: short, tail: "", length: short.length });
  const long = `${"a".repeat(HEAD_CHARS)}${"b".repeat(5_000)}${"c".repeat(TAIL_CHARS)}`;
  assert.deepEqual(viewOf(long), { head: "a".repeat(HEAD_CHARS), tail: "c".repeat(TAIL_CHARS), length: long.length });
  // Lines in the skipped middle are estimated at the density of what was read.
  const lines = "let x = 1;\n".repeat(10_000);
  assert.ok(Math.abs(lineCount(viewOf(lines)) - 10_001) <= 2, String(lineCount(viewOf(lines))));
});

test("a 1 MB prompt is classified the same whatever its middle holds: the middle is never scanned", () => {
  const mb = 1024 * 1024;
  const head = `Summarise this report:\n\n${prose(2000)}`.slice(0, HEAD_CHARS);
  const ending = "\n\nWhat is the main finding?";
  const tail = prose(600, 3).slice(-(TAIL_CHARS - ending.length)) + ending;
  assert.equal(tail.length, TAIL_CHARS);
  const middleSize = mb - head.length - tail.length;
  const fill = (text: string) => text.repeat(Math.ceil(middleSize / text.length)).slice(0, middleSize);
  // Everything the classifier reacts to, packed into the middle: cue words, code, documents, lists, questions.
  const loud = "Paper 7:\n```\nprove derive the trade-offs; critically design a distributed system\n```\n- refactor it\n- migrate it\n\nWhy? Then compare.\n\n";
  const plain = classify(head + fill("The committee met on Tuesday. ") + tail);
  const noisy = classify(head + fill(loud) + tail);
  assert.equal(noisy.class, plain.class);
  assert.equal(noisy.reason, plain.reason);
  assert.equal(plain.class, "MEDIUM");
  // The size still comes from the full length, not from what was read.
  assert.match(plain.reason, new RegExp(`${Math.ceil(mb / 4)}-token ask`));
  // The end is read: a closing question that asks for judgment changes the class.
  const judged = classify(head + fill(loud) + tail.replace("What is the main finding?", "Which claims would fail elsewhere?"));
  assert.equal(judged.class, "COMPLEX");
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
    `${name}: ${t.total} prompts, ${t.total - t.wrong} right (${pct(t.total - t.wrong, t.total)}), ${t.wrong} on the wrong tier (${pct(t.wrong, t.total)}), ` +
      `SIMPLE kept on tier 0: ${t.simpleKept}/${t.simple} (${pct(t.simpleKept, t.simple)})`,
    `  label \\ got   ${COMPLEXITY_CLASSES.map((c) => c.padStart(8)).join("")}`,
  ];
  for (const label of COMPLEXITY_CLASSES) {
    lines.push(`  ${label.padEnd(12)}  ${COMPLEXITY_CLASSES.map((got) => String(t.confusion[label][got]).padStart(8)).join("")}`);
  }
  return lines;
}

test("on the held-out labelled prompts the heuristic is ≥90% right and keeps ≥95% of SIMPLE on tier 0; the figures are printed", (t) => {
  const of = (...splits: Split[]) => LABELLED_PROMPTS.filter((p) => splits.includes(p.split));
  const all = tally(LABELLED_PROMPTS);
  const heldOut = tally(of(...HELD_OUT));
  const tuned = tally(LABELLED_PROMPTS.filter((p) => !HELD_OUT.includes(p.split)));
  const lines = [
    ...report("all", all),
    ...report(`held out, never tuned on (${HELD_OUT.join(" + ")})`, heldOut),
    ...report("held out, long documents and requirement lists (long-holdout + long-fresh)", tally(of("long-holdout", "long-fresh"))),
    ...report("long-fresh (written last, scored once)", tally(of("long-fresh"))),
    ...report("tuned on (dev + late + long-dev + long-late: optimistic)", tuned),
  ];
  for (const line of lines) {
    console.log(line);
    t.diagnostic(line);
  }
  assert.ok(all.total >= 200);
  assert.ok(all.wrong / all.total <= 0.1, `all: ${pct(all.wrong, all.total)} on the wrong tier`);
  assert.ok(all.simpleKept / all.simple >= 0.9, `all: ${pct(all.simpleKept, all.simple)} of SIMPLE kept`);
  // The issue's bar for routing quality, on the prompts no cue was chosen for.
  assert.ok(heldOut.wrong / heldOut.total <= 0.1, `held out: ${pct(heldOut.total - heldOut.wrong, heldOut.total)} right`);
  assert.ok(heldOut.simpleKept / heldOut.simple >= 0.95, `held out: ${pct(heldOut.simpleKept, heldOut.simple)} of SIMPLE kept`);
  assert.ok(tuned.wrong / tuned.total <= 0.05, `tuned on: ${pct(tuned.wrong, tuned.total)} on the wrong tier`);
});
