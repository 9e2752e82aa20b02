// A labelled set of requests for judging a complexity classifier (issue 4's
// success measure: at most 10% on the wrong tier, at least 90% of simple
// queries kept on tier 0).
//
// The labels say which tier an operator would want, written before the
// heuristic classifier existed and not changed to suit it:
// - SIMPLE: a 1-3B model on an old desktop answers it well. Facts, arithmetic,
//   conversions, definitions, greetings, voice-assistant commands, one-line
//   rewrites or snippets, classifying a short text.
// - MEDIUM: needs a competent 7-14B model. One document to summarise or
//   explain, an email or a short story, a paragraph to translate, a function
//   or a query to write, a concept explained with some depth.
// - COMPLEX: wants the biggest model. Several documents compared or
//   synthesised, proofs and multi-step derivations, system design with
//   trade-offs, long reports, large code reviews and refactors.
//
// `split` records how each item was used, so the figures can be read honestly
// (one person wrote all of them, and knew the heuristic's shape, so even the
// untuned figures flatter it somewhat):
// - "dev": looked at while the heuristic's cues and thresholds were chosen.
// - "late": written after that first round and scored once (16/24 right,
//   every miss on too low a tier), then used for a second round: now tuned on.
// - "holdout": written with "dev", never used to choose a cue (its one miss
//   of round one, a gardening follow-up, was fixed by a round-two cue).
// - "fresh": written before round two, scored once after it (27/30), and
//   not tuned on; its three misses are left as they are.
// - "long-dev", "long-holdout", "long-late", "long-fresh": the third round
//   (labelled-long-prompts.ts, which says how each was used): long documents
//   with a plain ask, long requirement lists for one program, and short
//   prompts that look like them.
//
// The long documents are made of a few hand-written paragraphs repeated to a
// size (the heuristic reads shape and length, not meaning); the asks are real.
// The third round's documents are in labelled-documents.ts.
import type { ChatTurn, GenerationInput } from "@flotilla/protocol";
import type { ComplexityClass } from "./classify.ts";
import { LONG_PROMPTS } from "./labelled-long-prompts.ts";

export interface LabelledPrompt {
  input: GenerationInput;
  maxTokens?: number;
  label: ComplexityClass;
  split: Split;
}

export type Split = "dev" | "holdout" | "late" | "fresh" | "long-dev" | "long-holdout" | "long-late" | "long-fresh";

/** The items never used to choose a cue or a threshold. */
export const HELD_OUT: readonly Split[] = ["holdout", "fresh", "long-holdout", "long-fresh"];

const PARAGRAPHS = [
  "We study how small language models behave when they are quantised to four bits and run on commodity CPUs without vector extensions. Across five model families we measure perplexity, latency per token and memory use, and we find that the loss in quality is concentrated in long-range reasoning tasks while short factual answers are barely affected.",
  "Our method groups weights by their sensitivity, estimated from a few hundred calibration samples, and keeps the most sensitive groups at eight bits. The resulting models are on average eleven percent larger than uniform four-bit models, but recover most of the accuracy lost on the multi-step arithmetic benchmark.",
  "The experiments ran on a cluster of twelve second-hand desktops with eight gigabytes of memory each. Each machine served one model with llama.cpp, and a coordinator distributed requests by the number of free slots. We report the median and the ninety-ninth percentile of the time to first token under a synthetic load of voice-assistant queries.",
  "Limitations: the calibration set is English only, the latency numbers depend on the memory bandwidth of old DDR2 systems, and we did not evaluate instruction-tuned variants. Future work should measure energy per answer, which matters more than latency for people who run these machines at home.",
  "The committee met on Tuesday to review the budget for the next quarter. Spending on hardware was twelve percent over plan because two power supplies failed, and the team agreed to buy refurbished units from now on. Maria will compare three vendors before the next meeting.",
  "Section four describes the termination clause: either party may end the agreement with ninety days of written notice, except during the first year, when termination requires a material breach that has not been cured within thirty days of notice.",
];

/** About `words` words of prose built from the paragraphs above, starting at paragraph `from`. */
export function prose(words: number, from = 0): string {
  const out: string[] = [];
  let count = 0;
  for (let i = from; count < words; i++) {
    const paragraph = PARAGRAPHS[i % PARAGRAPHS.length] ?? "";
    out.push(paragraph);
    count += paragraph.split(" ").length;
  }
  return out.join("\n\n");
}

const user = (content: string): ChatTurn => ({ role: "user", content });
const assistant = (content: string): ChatTurn => ({ role: "assistant", content });
const system = (content: string): ChatTurn => ({ role: "system", content });
const chat = (...messages: ChatTurn[]): GenerationInput => ({ kind: "chat", messages });
const ask = (content: string): GenerationInput => chat(user(content));
const completion = (prompt: string): GenerationInput => ({ kind: "completion", prompt });

const VOICE_SYSTEM =
  "You are Jarvis, the voice assistant of this house. Answer in one or two short sentences that sound natural when read aloud. " +
  "Do not use lists, markdown or emojis. If you do not know, say so. The family members are Ana, Ben and little Sofia; " +
  "the house has lights in the kitchen, the living room, the hall and the bedrooms, a thermostat, and speakers in every room. " +
  "Keep a friendly tone and never mention that you are a language model.";

const SNIPPET_JS = "```js\nconst items = null;\nitems.forEach((x) => console.log(x));\n```";

const SLUGIFY = [
  "```python",
  "import re",
  "def slugify(s: str) -> str:",
  "    s = s.strip().lower()",
  "    s = re.sub(r'[^a-z0-9]+', '-', s)",
  "    return s.strip('-')",
  "```",
].join("\n");

const codeModule = (lines: number): string => {
  const out = ["```ts"];
  for (let i = 0; out.length < lines; i++) {
    out.push(
      `export function handler${i}(req: Request, db: Db): Promise<Response> {`,
      `  const user = await db.users.find(req.headers.get("x-user-${i}"));`,
      `  if (!user) return new Response("no user", { status: 401 });`,
      `  const rows = await db.query("select * from orders where user_id = " + user.id + " and kind = ${i}");`,
      `  return Response.json(rows.map((r) => ({ id: r.id, total: r.total * 1.2 })));`,
      "}",
    );
  }
  out.push("```");
  return out.join("\n");
};

const quarterTable = (q: number): string =>
  [
    `Q${q} statement (thousands of EUR)`,
    "| line | value |",
    "|---|---|",
    `| revenue | ${1200 + q * 85} |`,
    `| cost of goods | ${640 + q * 51} |`,
    `| operating expenses | ${300 + q * 12} |`,
    `| one-off items | ${q === 4 ? 140 : 0} |`,
    `| net income | ${260 + q * 22 - (q === 4 ? 140 : 0)} |`,
  ].join("\n");

const longChat = (turns: number, last: string): GenerationInput => {
  const messages: ChatTurn[] = [system("You are a helpful assistant.")];
  const topics = ["the error in the logs", "the database pool", "the retry settings", "the deploy from Friday", "the cache hit rate"];
  for (let i = 0; i < turns; i++) {
    const topic = topics[i % topics.length] ?? "";
    messages.push(user(`Here is more about ${topic}: at 14:0${i % 10} the service logged 'connection reset by peer' ${i + 3} times, and latency rose to ${200 + i * 40} ms.`));
    messages.push(assistant(`Thanks. That points at ${topic}; can you also check whether the connection count was near the pool limit at that time?`));
  }
  messages.push(user(last));
  return { kind: "chat", messages };
};

const TRANSACTIONS = Array.from({ length: 120 }, (_, i) => {
  const payees = ["Supermarket", "Streaming Plus", "Gym Club", "Fuel Station", "Coffee Corner", "Online Store", "Electric Co", "Phone Ltd"];
  const day = String((i % 28) + 1).padStart(2, "0");
  const month = String(Math.floor(i / 20) + 1).padStart(2, "0");
  return `2024-${month}-${day}  ${payees[i % payees.length] ?? ""}  -${(((i * 37) % 9000) / 100 + 3).toFixed(2)} EUR`;
}).join("\n");

const STACK_TRACE = [
  "Error: duplicate key value violates unique constraint \"payments_pkey\"",
  "    at Connection.parseE (node_modules/pg/lib/connection.js:614:13)",
  "    at PaymentRepository.insert (src/payments/repository.ts:42:11)",
  "    at WebhookHandler.handle (src/webhooks/stripe.ts:88:5)",
  "    at processTicksAndRejections (node:internal/process/task_queues:95:5)",
].join("\n");

const s = (input: GenerationInput | string, split: Split = "dev", maxTokens?: number): LabelledPrompt =>
  item(input, "SIMPLE", split, maxTokens);
const m = (input: GenerationInput | string, split: Split = "dev", maxTokens?: number): LabelledPrompt =>
  item(input, "MEDIUM", split, maxTokens);
const c = (input: GenerationInput | string, split: Split = "dev", maxTokens?: number): LabelledPrompt =>
  item(input, "COMPLEX", split, maxTokens);

function item(input: GenerationInput | string, label: ComplexityClass, split: Split, maxTokens: number | undefined): LabelledPrompt {
  const entry: LabelledPrompt = { input: typeof input === "string" ? ask(input) : input, label, split };
  if (maxTokens !== undefined) entry.maxTokens = maxTokens;
  return entry;
}

export const LABELLED_PROMPTS: readonly LabelledPrompt[] = [
  // SIMPLE
  s("what's 2+2"),
  s("What is the capital of Australia?"),
  s("hi there!", "holdout"),
  s("Set a timer for ten minutes"),
  s("How many ounces are in a pound?"),
  s("Convert 72 degrees Fahrenheit to Celsius.", "holdout"),
  s("Who wrote Pride and Prejudice?"),
  s("Spell 'necessary'."),
  s("What's the weather usually like in Lisbon in May?", "holdout"),
  s("Translate 'good morning' into Spanish."),
  s("Is a tomato a fruit?"),
  s("Give me a synonym for 'happy'.", "holdout"),
  s("What year did the Berlin Wall fall?"),
  s("What does HTTP stand for?"),
  s("turn off the living room lights", "holdout"),
  s("What time zone is Tokyo in?"),
  s("How do I exit vim?"),
  s("What's 15% of 80?", "holdout"),
  s("Define photosynthesis in one sentence."),
  s("thanks!"),
  s("Is this review positive or negative? 'The battery died after two days and support never answered.'", "holdout"),
  s("What's the plural of 'cactus'?"),
  s("Remind me what the chemical symbol for gold is"),
  s("How many days are there in a leap year?", "holdout"),
  s("Tell me a joke about cats."),
  s("What's the square root of 144?"),
  s("Which planet is closest to the sun?", "holdout"),
  s("Fix the spelling: 'I recieved the pakage yesterday'"),
  s("Python: how do I get the length of a list?"),
  s("What's a good name for a goldfish?", "holdout"),
  s("How long should I boil an egg for a soft yolk?"),
  s("Play some jazz in the kitchen"),
  s("what is the boiling point of water at sea level", "holdout"),
  s("Capitalize this: the quick brown fox"),
  s(chat(system(VOICE_SYSTEM), user("How far away is the moon?"))),
  s(chat(user("What's the capital of France?"), assistant("Paris."), user("And Germany?")), "holdout"),
  s("Write a haiku about autumn."),
  s("What's the difference between 'affect' and 'effect'?"),
  s("Extract the email address from: 'Contact Jane at jane.doe@example.org for details.'", "holdout"),
  s("Round 3.14159 to two decimal places."),
  s("What's the opposite of 'generous'?"),
  s("How many legs does a spider have?", "holdout"),
  s("Answer yes or no: is Rust memory safe?", "dev", 3),
  s("git command to undo the last commit but keep the changes?"),
  s(chat(system(VOICE_SYSTEM), user("What time is it in London right now?")), "holdout"),
  s(chat(system(VOICE_SYSTEM), user("Dim the kitchen lights to thirty percent.")), "dev"),
  s(longChat(6, "ok, thanks, that's all for today!"), "holdout"),
  s(completion("The capital of Japan is"), "dev", 8),
  s("what's 7 times 8", "holdout"),
  s("Who painted the Mona Lisa?"),

  // MEDIUM
  m(`Summarize this paper in five bullet points:\n\n${prose(900)}`),
  m("Explain how public-key cryptography works, with an example."),
  m("Write a polite email to my landlord asking him to fix the heating, which has been broken for a week.", "holdout"),
  m(`Translate the following paragraph into French:\n\n${prose(60, 2)}`),
  m("Write a Python function that parses a CSV file and returns the average of the 'price' column, skipping rows with missing values."),
  m(`Why does this code throw a TypeError?\n${SNIPPET_JS}`, "holdout"),
  m("Explain the difference between TCP and UDP and when to use each."),
  m("Write a short story (about 500 words) about a lighthouse keeper who finds a message in a bottle.", "dev", 800),
  m(`Rewrite this paragraph to sound more professional:\n\nso basically the server thing broke again on friday, no idea why, we kinda fixed it by restarting stuff but honestly it'll probably happen again. someone should look at it properly next week maybe.`, "holdout"),
  m("What are the pros and cons of renting versus buying a house?"),
  m("Give me a 3-day itinerary for Rome on a budget."),
  m("Write a cover letter for a junior data analyst position; I have a statistics degree and did an internship at a bank.", "holdout"),
  m("Explain recursion to a 10-year-old, with an example."),
  m(`Summarize the following meeting notes and list the action items:\n\n${prose(300, 4)}`),
  m("Write a SQL query that returns the top 5 customers by total order value in 2023, from tables customers(id, name) and orders(id, customer_id, amount, created_at).", "holdout"),
  m("How do vaccines train the immune system?"),
  m(
    chat(
      user("I'm planning a small vegetable garden, about 4 by 3 metres, in a yard that gets sun in the morning only."),
      assistant("Morning sun suits leafy greens and herbs well. How much time can you spend on it each week?"),
      user("Maybe two hours a week. The soil is quite clay-heavy."),
      assistant("Then raised beds with compost would help drainage; lettuce, spinach, chard and parsley would do well."),
      user("One corner is under a big oak and gets almost no direct sun."),
      user("Based on all that, what should I plant in the shady corner, and how should I prepare that soil?"),
    ),
    "holdout",
  ),
  m(`Write unit tests for this function:\n${SLUGIFY}`),
  m("Explain what this regex does: ^(?=.*[A-Z])(?=.*\\d)[A-Za-z\\d]{8,}$"),
  m("Draft a LinkedIn post announcing that our team shipped version 2.0 of our app.", "holdout"),
  m("Describe the causes of the French Revolution."),
  m(`Convert this JSON to YAML:\n\`\`\`json\n${JSON.stringify({ server: { host: "0.0.0.0", port: 8080, tls: { cert: "/etc/cert.pem", key: "/etc/key.pem" } }, nodes: [{ name: "desk-1", tier: 0 }, { name: "gpu-1", tier: 2, labels: { gpu: "rtx3090" } }], logging: { level: "info" } }, null, 2)}\n\`\`\``),
  m("What is the time complexity of quicksort, and why is the worst case O(n^2)?", "holdout"),
  m("Create a weekly meal plan for a vegetarian family of four."),
  m(`Explain the main ideas of this article:\n\n${prose(600, 1)}`),
  m("Write a bash script that backs up /home to an external drive every night and deletes backups older than 30 days.", "holdout"),
  m("Help me understand what an ETF is and how it differs from a mutual fund."),
  m(`Proofread this text and correct the grammar:\n\n${prose(150, 3).replaceAll("the ", "teh ")}`),
  m("Write a limerick-style poem of four stanzas about a cat who runs a bakery.", "holdout"),
  m(completion(`Continue this story for a few paragraphs:\n\n${prose(120, 2)}`), "dev", 600),
  m("Outline a 20-minute talk for beginners about how Wi-Fi works.", "holdout"),
  m("My sourdough comes out dense and flat. What could be wrong, and how do I fix it?"),

  // COMPLEX
  c(`Compare these ten papers: for each, state its method, dataset and main result, then build a table contrasting them and identify which findings contradict each other.\n\n${Array.from({ length: 10 }, (_, i) => `Paper ${i + 1}:\n${prose(400, i)}`).join("\n\n")}`),
  c("Prove that there are infinitely many primes p with p ≡ 3 (mod 4)."),
  c("Design a distributed rate limiter for an API gateway that handles 1M requests per second across 5 regions. Discuss consistency, failure modes, and the trade-offs between token bucket and sliding window approaches.", "holdout"),
  c(`Here are three contracts. Identify every clause where they conflict with each other and recommend which one takes precedence, with reasons.\n\nContract A:\n${prose(700, 5)}\n\nContract B:\n${prose(700, 0)}\n\nContract C:\n${prose(700, 3)}`),
  c("Write a comprehensive 3000-word report on the economic impact of remote work, with sections, references to published studies, and policy recommendations.", "dev", 6000),
  c(`Refactor this module into smaller classes, keeping the behaviour identical, and explain each change and why it is safe:\n${codeModule(400)}`, "holdout"),
  c("Three boxes are labelled 'apples', 'oranges' and 'apples and oranges', and every label is wrong. You may take one fruit from one box without looking inside. Explain step by step how to relabel all boxes correctly, and prove that one draw is always enough."),
  c("Analyze the time and space complexity of an algorithm that finds the longest palindromic substring by expanding around every centre, prove it correct, and propose an asymptotically faster alternative with its own proof.", "holdout"),
  c("Plan the migration of our monolithic Rails app (200k lines, PostgreSQL, Sidekiq) to services over 12 months: phases, risks, team structure, data migration and a rollback strategy for each phase."),
  c(`Given the following quarterly financial statements, compute the trends, identify anomalies, and forecast next quarter with a justification for each assumption.\n\n${[1, 2, 3, 4, 5].map(quarterTable).join("\n\n")}`),
  c("Critically evaluate the arguments for and against universal basic income, weighing the empirical evidence from the pilots in Finland, Kenya and Stockton.", "holdout"),
  c("Implement a lock-free concurrent hash map in C++ with resize support, and explain the memory ordering chosen for every atomic operation."),
  c(longChat(20, "Given everything so far, what is the root cause, and what exactly should we change to fix it for good?")),
  c("Derive the backpropagation equations for a two-layer neural network with a softmax output and cross-entropy loss, step by step.", "holdout"),
  c(`Read these four chapters and write a literary analysis comparing how the author develops the theme of isolation across them.\n\n${[0, 1, 2, 3].map((i) => `Chapter ${i + 1}\n\n${prose(800, i)}`).join("\n\n")}`),
  c("Write a detailed threat model for a home-lab cluster that exposes an OpenAI-compatible API to the internet: assets, attackers, attack surfaces, mitigations and residual risks."),
  c("Find all real x such that sqrt(x+3) + sqrt(x-2) = 5, showing every step, then generalise the method to sqrt(x+a) + sqrt(x-b) = c and state when solutions exist.", "holdout"),
  c(`Write a literature review from the following six abstracts: group them by methodology, summarise the evidence for each group, and identify the open research gaps.\n\n${Array.from({ length: 6 }, (_, i) => `Abstract ${i + 1}: ${prose(150, i + 1)}`).join("\n\n")}`),
  c(`Translate this technical manual into German, keeping all the formatting:\n\n${prose(4000, 2)}`, "holdout", 8000),
  c("Write a complete REST API in Go for a todo app with authentication, PostgreSQL persistence, migrations, tests and a Dockerfile."),
  c(`Review this pull request for bugs, security issues and design problems, and rank the findings by severity:\n${codeModule(300).replace("```ts", "```diff")}`, "holdout"),
  c("What are the second-order effects of raising interest rates on housing, employment and the currency? Reason through each causal chain and say where the evidence is weak."),
  c("Design the database schema, API and caching strategy for a multi-tenant booking system with overlapping reservations, time zones and cancellations, and justify the trade-offs.", "holdout"),
  c("Explain the CAP theorem, then evaluate whether PostgreSQL with synchronous replication, Cassandra and Spanner are CP or AP under a network partition, with failure scenarios for each."),
  // Written after the first round, scored once (16/24), then tuned on in the second.
  s("whats the minimum length of a WPA2 password?", "late"),
  s("Good night!", "late"),
  s("Who is the CEO of Microsoft?", "late"),
  s("How many cups are in a litre?", "late"),
  s("Can dogs eat grapes?", "late"),
  s("What day of the week was 1 January 2000?", "late"),
  s("Sort these numbers: 5, 3, 9, 1", "late"),
  s("Which is bigger, a blue whale or a megalodon?", "late"),
  s("Add milk and eggs to my shopping list", "late"),
  s("What's the keyboard shortcut to take a screenshot on a Mac?", "late"),
  m("Can you explain the plot of Inception?", "late"),
  m("I have chicken, rice, spinach and garlic. Suggest a dinner recipe with steps.", "late"),
  m("Write a regex that matches UK postcodes and explain each part.", "late"),
  m("What's the best way to learn Spanish in six months if I can study 30 minutes a day?", "late"),
  m("Turn these notes into a friendly reminder email: dentist Tuesday 3pm, bring insurance card, arrive 10 min early.", "late"),
  m("Compare Python and JavaScript for a beginner.", "late"),
  m("Summarize the key points of the GDPR for a small online shop.", "late"),
  m("Debug this: my React component re-renders forever when I call setState inside useEffect without a dependency array.", "late"),
  c("I'm deciding between three job offers with different salaries, equity, commutes and growth. Build a weighted decision matrix, explain the weights, and tell me which to take under two different risk appetites.", "late"),
  c("Write a compiler for a tiny arithmetic language in Rust: lexer, parser, AST, type checker and code generation to WebAssembly.", "late"),
  c("Estimate how many piano tuners there are in Chicago, stating every assumption, then do a sensitivity analysis on the two most uncertain ones.", "late"),
  c(`Our Kubernetes cluster loses pods at random under load. Here are the events and the node logs:\n\n${prose(1500, 2)}\n\nWhat is going on, and how do we fix it?`, "late"),
  c("Draft a grant proposal (about 2500 words) for a community solar project: need, objectives, budget justification, evaluation plan and sustainability.", "late", 4000),
  c("Explain quantum entanglement to a physics undergraduate, including a derivation of the Bell inequality.", "late"),
  // Written before the second round, scored once after it (27/30), not tuned on.
  s("What's the capital of Canada?", "fresh"),
  s("Set an alarm for 6:30 tomorrow", "fresh"),
  s("How do you say 'thank you' in Japanese?", "fresh"),
  s("is 17 a prime number", "fresh"),
  s("What's 12 squared?", "fresh"),
  s("When is the next full moon?", "fresh"),
  s("Name three primary colours.", "fresh"),
  s("How tall is Mount Everest?", "fresh"),
  s("What's the command to list files in a directory on Windows?", "fresh"),
  s("What does 'ubiquitous' mean?", "fresh"),
  s("Lock the front door", "fresh"),
  s(chat(system(VOICE_SYSTEM), user("Is it going to be cold tonight?")), "fresh"),
  s("Who won the 2018 World Cup?", "fresh"),
  m("Write a Python script that renames all .jpeg files in a folder to .jpg.", "fresh"),
  m("What's the difference between a virus and a bacterium, and why don't antibiotics work on viruses?", "fresh"),
  m("Give me five ideas for a 10-year-old's birthday party at home, with a rough budget for each.", "fresh"),
  m("Explain how the interest on a mortgage is calculated each month.", "fresh"),
  m("Rewrite my bio to sound more confident: 'I'm a developer, I kind of do backend stuff, mostly Java, sometimes Go.'", "fresh"),
  m(`Summarise this email thread and tell me what I need to reply to:\n\n${prose(350, 4)}`, "fresh"),
  m("How should I structure a 45-minute workout for building strength at home with just dumbbells?", "fresh"),
  m("Write a docker-compose file for Postgres, Redis and a Node app, with volumes for the database.", "fresh"),
  m(`Translate this into Italian, keeping it informal:\n\n${prose(90, 5)}`, "fresh"),
  c("Design a backup strategy for a small company with 40 laptops, two file servers and a cloud CRM: cover RPO/RTO targets, ransomware, offsite copies, testing and cost.", "fresh"),
  c(`Here are my last six months of bank transactions. Categorise them, find recurring subscriptions, spot anything unusual, and propose a budget that saves 15% without cutting groceries.\n\n${TRANSACTIONS}`, "fresh"),
  c("Prove that every tree with n vertices has exactly n-1 edges.", "fresh"),
  c("Write a 2000-word essay arguing whether social media has done more harm than good to democracy, considering counterarguments and evidence.", "fresh", 3500),
  c(`Given this description of our service and the stack trace below, figure out why the payment webhook is processed twice and propose a fix that is safe under concurrent deliveries.\n\n${prose(600, 2)}\n\n\`\`\`\n${STACK_TRACE}\n\`\`\``, "fresh"),
  c("Compare PostgreSQL, MongoDB and Cassandra for storing a social network's feeds: data model, read and write patterns, scaling, consistency and operational cost. Recommend one.", "fresh"),
  c("Solve this scheduling problem: 8 employees, 3 shifts a day, 7 days; each employee works 5 shifts a week, nobody works two shifts in a row, and Ana and Ben never share a shift. Give a valid schedule and explain how you found it.", "fresh"),
  c(`Read the attached three quarterly reports and explain what changed in the company's strategy and why, with evidence from each.\n\n${[1, 2, 3].map((i) => `Report ${i}:\n${prose(600, i)}`).join("\n\n")}`, "fresh"),
  ...LONG_PROMPTS,
];
