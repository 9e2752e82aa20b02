// The third round of labelled prompts (issue: routing quality): long
// documents with a short, plain ask, long requirement lists for one large
// piece of code, and short prompts that look like either but are simple.
//
// The labels follow labelled-prompts.ts, with one rule made explicit:
// - One long document with a plain ask (summarise it, what is the main
//   finding, extract the methods, what does clause 4 say) is MEDIUM, not
//   SIMPLE and not COMPLEX. Not COMPLEX: the answer is short and the work is
//   reading one text, which a 7-14B model does well. Not SIMPLE: a 1-3B
//   model on an old desktop loses the thread over thousands of tokens, its
//   window (often 4-8K) may not hold the text, and its CPU prefills a long
//   prompt at tens of tokens a second, so the first word comes minutes late.
//   The ask turns it COMPLEX only when the work does: judging or comparing
//   (critically evaluate the methodology), several documents, or an answer as
//   long as the text (translate or rewrite it all).
// - A list of five or more requirements for one program (a script, a
//   service, an app, a component) is COMPLEX: the answer is hundreds of lines
//   that must satisfy every item at once. Up to three or four small ones (a
//   function that groups and sums) stay MEDIUM.
//
// Splits, as in labelled-prompts.ts. The heuristic before this round scored
// 15/30 on "long-dev", 16/30 on "long-holdout", 11/20 on "long-late" and
// 13/22 on "long-fresh" as they stand now (mostly long summaries sent to
// COMPLEX and program specs sent to MEDIUM).
// - "long-dev": written first, looked at while the heuristic was tuned.
// - "long-holdout": written with "long-dev", before the heuristic changed,
//   on different documents (labelled-documents.ts keeps the kinds apart) and
//   different phrasings; scored once after the tuning: 30/32 right, 6/8
//   SIMPLE kept. Its two misses (a "one-line summary", a comma list to
//   alphabetise) were then tuned on and moved to "long-dev", so the 30 left
//   here flatter it by those two.
// - "long-late": written after that scoring, scored once (15/20 right, 6/8
//   SIMPLE kept: a pasted email thread read as the ask, a prediction taken
//   for a plain question, a "web scraper" with no task cue, "in a sentence",
//   a shopping-list command), then tuned on.
// - "long-fresh": written before "long-late" was tuned on, scored once after
//   it (16/22 right, 7/8 SIMPLE kept) and not tuned on; its misses are left
//   as they are. Most are judgments over a long text with no cue word ("Was
//   the court right?", two judgments compared), which the heuristic reads as
//   plain asks and sends one tier too low.
import type { GenerationInput } from "@flotilla/protocol";
import type { ComplexityClass } from "./classify.ts";
import { longDocument as doc } from "./labelled-documents.ts";
import type { LabelledPrompt, Split } from "./labelled-prompts.ts";

const ask = (content: string): GenerationInput => ({ kind: "chat", messages: [{ role: "user", content }] });
const completion = (prompt: string): GenerationInput => ({ kind: "completion", prompt });

function item(label: ComplexityClass, split: Split, input: GenerationInput | string, maxTokens?: number): LabelledPrompt {
  const entry: LabelledPrompt = { input: typeof input === "string" ? ask(input) : input, label, split };
  if (maxTokens !== undefined) entry.maxTokens = maxTokens;
  return entry;
}
const dev = {
  s: (input: GenerationInput | string, maxTokens?: number) => item("SIMPLE", "long-dev", input, maxTokens),
  m: (input: GenerationInput | string, maxTokens?: number) => item("MEDIUM", "long-dev", input, maxTokens),
  c: (input: GenerationInput | string, maxTokens?: number) => item("COMPLEX", "long-dev", input, maxTokens),
};
const late = {
  s: (input: GenerationInput | string, maxTokens?: number) => item("SIMPLE", "long-late", input, maxTokens),
  m: (input: GenerationInput | string, maxTokens?: number) => item("MEDIUM", "long-late", input, maxTokens),
  c: (input: GenerationInput | string, maxTokens?: number) => item("COMPLEX", "long-late", input, maxTokens),
};
const fresh = {
  s: (input: GenerationInput | string, maxTokens?: number) => item("SIMPLE", "long-fresh", input, maxTokens),
  m: (input: GenerationInput | string, maxTokens?: number) => item("MEDIUM", "long-fresh", input, maxTokens),
  c: (input: GenerationInput | string, maxTokens?: number) => item("COMPLEX", "long-fresh", input, maxTokens),
};
const held = {
  s: (input: GenerationInput | string, maxTokens?: number) => item("SIMPLE", "long-holdout", input, maxTokens),
  m: (input: GenerationInput | string, maxTokens?: number) => item("MEDIUM", "long-holdout", input, maxTokens),
  c: (input: GenerationInput | string, maxTokens?: number) => item("COMPLEX", "long-holdout", input, maxTokens),
};

const bullets = (lines: readonly string[], mark = "-"): string => lines.map((line) => `${mark} ${line}`).join("\n");
const numbered = (lines: readonly string[], close = "."): string => lines.map((line, i) => `${i + 1}${close} ${line}`).join("\n");

export const LONG_PROMPTS: readonly LabelledPrompt[] = [
  // --- tuned on -------------------------------------------------------------------------
  // One long document, a plain ask: MEDIUM, wherever the ask stands.
  dev.m(`Summarize this:\n\n${doc("paper", 2500)}`),
  dev.m(`${doc("paper", 3000, { titled: false })}\n\nWhat is the main finding?`),
  dev.m(`Extract the methods from this paper:\n\n${doc("paper", 4000, { from: 1 })}`),
  dev.m(`${doc("contract", 2500, { titled: false })}\n\nWho are the parties to this agreement, and when can it be terminated?`),
  dev.m(`Here are the minutes of our last board meeting.\n\n${doc("minutes", 2000)}\n\nList the action items.`),
  dev.m(`TL;DR?\n\n${doc("postmortem", 3500)}`),
  dev.m(`${doc("postmortem", 2500, { titled: false })}\n\nWhat was the root cause, according to the report?`),
  dev.m(`Give me the key points of this contract.\n\n${doc("contract", 3000)}`),
  dev.m(`${doc("minutes", 6000)}\n\nSummarise the above in five bullet points.`),
  dev.m(`What does this agreement say about liability?\n\n${doc("contract", 5000, { from: 3 })}`),
  dev.m(completion(`${doc("paper", 2500)}\n\nTL;DR:`)),
  dev.m(`Summarize this:\n\n${doc("postmortem", 4000, { from: 2 })}`, 4096),
  dev.m(`Summarise this report in one sentence.\n\n${doc("postmortem", 3000)}`),
  dev.m(`What is the main finding of this abstract?\n\n${doc("paper", 60, { titled: false })}`),
  // Added after the held-out items were scored, from the routing bench's shape: the text starts on the next line.
  dev.m(`Summarise this log:\n${Array.from({ length: 1500 }, (_, i) => `12:${String(i % 60).padStart(2, "0")} GET /api/items/${i} ${i % 7 === 0 ? 500 : 200} ${10 + (i % 40)}ms`).join("\n")}`),
  // One long document, real work on it: COMPLEX.
  dev.c(`Critically evaluate the methodology of this paper and propose two experiments that would test its main claim.\n\n${doc("paper", 3000)}`),
  dev.c(`${doc("contract", 3000)}\n\nRewrite this agreement in plain English for the client's board, clause by clause, and flag anything unusual.`, 6000),
  dev.c(`Here is our incident report.\n\n${doc("postmortem", 3000)}\n\nWhat else could have caused this, which of the action items would not have prevented it, and what would you add?`),
  // One program, many requirements: COMPLEX.
  dev.c(
    `Write a Python script that does the following:\n\n${numbered([
      "Watches a folder for new CSV files.",
      "Validates every row against a JSON schema given on the command line.",
      "Writes invalid rows to a rejects file with the reason.",
      "Converts dates to ISO 8601 and amounts to cents.",
      "Loads the valid rows into PostgreSQL in batches of 1,000.",
      "Skips files it has already loaded, by checksum.",
      "Retries the database connection with backoff.",
      "Logs progress as JSON lines.",
      "Exits with a non-zero status if any file failed.",
      "Has unit tests for the validation and conversion steps.",
    ])}`,
  ),
  dev.c(
    `Build a React component for a data table with these requirements:\n${bullets([
      "sorting on every column, with a visible indicator",
      "a text filter per column",
      "pagination with a selectable page size",
      "row selection with a select-all checkbox",
      "columns that can be resized and reordered by dragging",
      "virtualised rendering for 100,000 rows",
      "keyboard navigation that meets WCAG 2.1 AA",
      "TypeScript types for the column definitions",
    ])}`,
  ),
  dev.c(
    "Implement a rate-limited HTTP client in TypeScript that retries with exponential backoff, honours Retry-After, caps concurrency per host, supports cancellation with AbortSignal, records metrics per endpoint, and comes with unit tests for every path.",
  ),
  dev.c(
    `Requirements for the CLI:\n${bullets([
      "syncs a local folder with an S3 bucket in both directions",
      "include and exclude patterns like .gitignore",
      "resumes interrupted uploads",
      "verifies checksums after every transfer",
      "limits bandwidth to a configurable rate",
      "a dry-run mode that prints what it would do",
    ])}\n\nWrite it in Go.`,
  ),
  // Small code with a short list: MEDIUM.
  dev.m(`Write a function in JavaScript that:\n${bullets(["takes an array of orders", "groups them by customer", "returns the total per customer"])}`),
  dev.m("Write a SQL query that returns, for each month of 2024, the number of new customers, the revenue, and the average order value."),
  // Short, and only looks like the above: SIMPLE.
  dev.s("What's the main difference between an alligator and a crocodile?"),
  dev.s("Summarize the plot of Romeo and Juliet in one sentence."),
  dev.s("Extract the phone number from: 'Call Sam on 0161 496 0000 after 5pm.'"),
  dev.s(`Which of these are prime?\n${bullets(["7", "9", "11", "15", "21"])}`),
  // Written as held out; the two held-out misses when it was scored (see the header), then tuned on.
  dev.s("Give me a one-line summary of what a VPN does."),
  dev.s("Alphabetize: pears, apples, kiwis, figs, plums, dates"),

  // --- held out: scored once, never tuned on ----------------------------------------------------
  held.m(`${doc("news", 3000)}\n\nWhat's the gist of this?`),
  held.m(`Can you give me a short summary of the article below?\n\n${doc("news", 2500, { from: 2 })}`),
  held.m(`${doc("trial", 3500, { titled: false })}\n\nWhat did the authors conclude?`),
  held.m(`Pull out every dose and every percentage mentioned in this trial report.\n\n${doc("trial", 3000)}`),
  held.m(`${doc("novel", 4000)}\n\nWhat is this chapter about?`),
  held.m(`Who is Ines, and why has she come to the lighthouse? Answer from the chapter below.\n\n${doc("novel", 3000)}`),
  held.m(`${doc("manual", 3000)}\n\nhow do i clean the filter`),
  held.m(`What does error E4 mean according to this manual?\n\n${doc("manual", 5000)}`),
  held.m(`${doc("transcript", 3000)}\n\nIn a few bullet points, what are the main takeaways from this call?`),
  held.m(`summarise pls\n\n${doc("transcript", 6000)}`),
  held.m(completion(`${doc("news", 3000, { titled: false })}\n\nSummary:`)),
  held.m(`What was revenue growth this quarter?\n\n${doc("transcript", 2500)}`, 2048),
  held.m(`${doc("trial", 8000)}\n\nExtract the primary end point and the hazard ratio.`),
  held.m(`Briefly, what's the warranty period?\n\n${doc("manual", 4000, { from: 2 })}`),
  held.c(
    `Here is a news feature about our city's drought.\n\n${doc("news", 3000)}\n\nCritically assess the water company's claims, weigh desalination against the pipeline, and draft a letter to the council recommending one.`,
  ),
  held.c(`Translate this chapter into Spanish, keeping the dialogue natural:\n\n${doc("novel", 4000)}`, 8000),
  held.c(
    `${doc("trial", 3000)}\n\nIs the evidence strong enough to change clinical practice? Evaluate the design, the end point and the adverse events, and compare the trial with earlier ones you know of.`,
  ),
  held.c(`Compare these two reports and list every figure that does not match.\n\nReport 1:\n${doc("transcript", 2000)}\n\nReport 2:\n${doc("transcript", 2000, { from: 3 })}`),
  held.c(
    `I need a Node.js service. It must:\n${bullets(
      [
        "accept GitHub webhooks and verify their signatures",
        "queue each event in Redis",
        "retry failed jobs with backoff",
        "expose Prometheus metrics",
        "have a health endpoint",
        "shut down gracefully on SIGTERM",
        "ship with a Dockerfile and tests",
      ],
      "*",
    )}\n\nPlease write the whole thing.`,
  ),
  held.c(
    `Write a bash script with the following features:\n${numbered(
      [
        "back up every Postgres database on the host",
        "compress each dump with zstd",
        "encrypt it with age",
        "upload it to S3 with a date prefix",
        "keep 7 daily and 4 weekly copies",
        "send a Slack message on failure",
        "log to syslog",
      ],
      ")",
    )}`,
  ),
  held.c("Create a Flask app with user registration and login, password reset by email, an admin page, CSV export of users, rate limiting on the login form, and pytest tests."),
  held.c(
    `Spec for a Chrome extension:\n\n${bullets([
      "a toolbar button that saves the current tab to a reading list",
      "the list syncs across devices with chrome.storage.sync",
      "tags and full-text search",
      "a keyboard shortcut",
      "an options page for export to JSON",
      "dark mode",
    ])}\n\nWrite the code for it (manifest v3).`,
  ),
  held.m("Implement an LRU cache class in Python with get, put, a max size, and O(1) operations, plus a few tests."),
  held.m(`Write a Go function that:\n${bullets(["reads a file line by line", "counts word frequencies", "returns the top ten"])}`),
  held.s("Which of these is not a mammal: dolphin, bat, shark, whale?"),
  held.s("What's the main ingredient in guacamole?"),
  held.s("Extract the date from this sentence: 'The meeting was moved to 14 March 2025.'"),
  held.s(`Shopping list, sort by aisle please:\n${bullets(["milk", "bread", "apples", "cheese", "bananas", "yoghurt"])}`),
  held.s("Is this sentence grammatically correct? 'Me and him went to the shop.'"),
  held.s("Write a cron expression that runs at 3am every weekday."),

  // --- written after "long-holdout" was scored, scored once (see the header), then tuned on ---------
  late.m(`${doc("policy", 3000)}\n\nWhat are the three main proposals?`),
  late.m(`Summarise this thread for me — who decided what?\n\n${doc("emails", 2500)}`),
  late.m(`${doc("emails", 4000, { titled: false })}\n\nWhen is the launch date now?`),
  late.m(`Explain what this policy means for renters, in plain words:\n\n${doc("policy", 2500, { from: 2 })}`),
  late.m(completion(`${doc("policy", 5000)}\n\nKey points:`)),
  late.m("Write a Python function that validates an IBAN: strip spaces, check the length for the country, move the first four characters to the end, and check the mod-97 remainder."),
  late.c(`${doc("policy", 3000)}\n\nWhich of these proposals would actually lower rents, which would backfire, and why? Weigh the evidence from other cities.`),
  late.c(
    `Build a Discord bot in Python that:\n${bullets([
      "answers slash commands for polls and reminders",
      "stores reminders in SQLite and survives restarts",
      "posts a daily digest of the most active threads",
      "lets moderators mute users for a set time",
      "logs every moderation action to a private channel",
      "reads its token and settings from environment variables",
      "has tests for the reminder scheduling",
      "runs in Docker",
    ])}`,
  ),
  late.c(
    `Here's what the mobile app needs to do:\n${numbered([
      "sign in with email or Apple/Google",
      "show nearby bike-share stations on a map",
      "show live availability of bikes and docks",
      "reserve a bike for ten minutes",
      "unlock a bike by scanning its QR code",
      "track the ride and show its cost",
      "pay with a stored card",
      "show ride history",
      "work offline for the map of the last area seen",
    ])}\n\nCan you implement it in Flutter?`,
  ),
  late.c(`Turn this email thread into a project plan with milestones, owners, risks and a timeline.\n\n${doc("emails", 3000)}`),
  late.c("Write a web scraper that logs in to a site, follows pagination, respects robots.txt, retries on 429s, stores results in SQLite and runs on a schedule."),
  late.c(`${doc("emails", 3000)}\n\nDraft replies to each of the open questions in this thread, and flag any commitments we cannot keep.`),
  late.s("Give me a two-word name for a coffee shop."),
  late.s("Rank these by size: cat, horse, mouse, elephant, dog, ant"),
  late.s("What's the TL;DR of the tortoise and the hare?"),
  late.s("List the days of the week in French."),
  late.s("Summarise 'Hamlet' in a sentence."),
  late.s("Which file extension do Python files use?"),
  late.s("Add bread, eggs, butter, jam and coffee to the shopping list"),
  late.s("Convert 5 miles to kilometres."),

  // --- held out, written last (before the "long-late" misses were tuned on), scored once ---------------
  fresh.m(`${doc("judgment", 3500)}\n\nWhat did the court decide?`),
  fresh.m(`Please summarise the discussion below and tell me whether a fix was merged.\n\n${doc("thread", 3000)}`),
  fresh.m(`${doc("thread", 4500, { titled: false })}\n\nwhat version is the bug fixed in?`),
  fresh.m(`Summarize the key arguments of both parties.\n\n${doc("judgment", 5000)}`),
  fresh.m(`${doc("judgment", 2500)}\n\nIn one paragraph, what is this case about?`),
  fresh.m("Write a Python function that takes a list of file paths, reads each file, counts its lines, and returns a dict of path to count."),
  fresh.m("Explain the difference between a process and a thread, with examples."),
  fresh.c(`${doc("judgment", 3000)}\n\nWas the court right? Assess the reasoning on each ground of appeal and say how a higher court would likely rule.`),
  fresh.c(`${doc("thread", 3000)}\n\nBased on this thread, write a patch that fixes the bug, with tests, and explain why it happens.`),
  fresh.c(
    "Build a command-line password manager in Rust: master password with Argon2, AES-GCM encryption, a vault file, add/get/list/delete commands, clipboard copy with auto-clear, and import from CSV.",
  ),
  fresh.c(
    `Create a Node.js CLI with the following:\n${bullets([
      "scaffolds a new project from a template repository",
      "asks interactive questions for the name, licence and package manager",
      "installs dependencies and initialises git",
      "supports a --yes flag that takes every default",
      "prints a coloured summary at the end",
      "checks for a newer version of itself on start",
      "has end-to-end tests that run it in a temporary folder",
    ])}`,
  ),
  fresh.c(
    "Develop a Telegram bot that tracks expenses: parse messages like '12.50 lunch', store them per user, weekly and monthly reports, charts as images, CSV export, and multi-currency with daily exchange rates.",
  ),
  fresh.c(
    `Here are two judgments on the same question.\n\nJudgment 1:\n${doc("judgment", 1500)}\n\nJudgment 2:\n${doc("judgment", 1500, { from: 3 })}\n\nWhere do they disagree, and which reasoning is stronger?`,
  ),
  fresh.c(`Write a 1500-word report for the board based on this thread: what went wrong, what it cost, and what we change.\n\n${doc("thread", 3000)}`),
  fresh.s("Name five fruits that are red."),
  fresh.s("Put these in alphabetical order: Oslo, Bern, Rome, Lima, Kyiv, Doha"),
  fresh.s("Briefly, who was Ada Lovelace?"),
  fresh.s("What's the gist of the Monty Hall problem in one line?"),
  fresh.s("remind me to call mum, buy stamps, water the plants and pay the rent"),
  fresh.s("Extract the numbers from this: 'We sold 14 bikes, 3 scooters and 27 helmets.'"),
  fresh.s("Which is heavier, a kilo of feathers or a kilo of steel?"),
  fresh.s("How do I split a string by commas in JavaScript?"),

];
