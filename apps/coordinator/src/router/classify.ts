// Task complexity: which tier a request deserves. SIMPLE questions stay on the
// small tier-0 machines, MEDIUM work goes to tier 1, COMPLEX work to the big
// tier-2 box (route.ts turns the class into a tier order).
//
// A classifier is pluggable. The heuristic below is the default: synchronous,
// microseconds, no model. The interface also admits a classifier that answers
// later (one that asks a small model on a tier-0 node); such a classifier
// should fall back to the heuristic when its node is slow or absent, since
// the request waits on it.
import type { GenerationInput, GenerationRequest } from "@flotilla/protocol";
import { estimatePromptTokens, estimateTokens } from "./tokens.ts";

export type ComplexityClass = "SIMPLE" | "MEDIUM" | "COMPLEX";
export const COMPLEXITY_CLASSES: readonly ComplexityClass[] = ["SIMPLE", "MEDIUM", "COMPLEX"];

export interface Classification {
  class: ComplexityClass;
  /** Why, for people: the features that decided it. */
  reason: string;
}

export interface ClassifierInput {
  input: GenerationInput;
  /** Estimated tokens of the whole prompt (tokens.ts): the context it needs. */
  promptTokens: number;
  /** The client's max_tokens; undefined when it set none. */
  maxTokens: number | undefined;
}

export interface Classifier {
  readonly name: string;
  classify(request: ClassifierInput): Classification | Promise<Classification>;
}

/** A classifier that answers at once, as the heuristic does. */
export interface SyncClassifier extends Classifier {
  classify(request: ClassifierInput): Classification;
}

// ---------------------------------------------------------------------------
// The heuristic. Each feature adds points; the total picks the class:
//   score < SIMPLE_BELOW → SIMPLE, < COMPLEX_FROM → MEDIUM, else COMPLEX.
// It reads the ask (the last user message, or the completion prompt), not the
// system prompt: a voice assistant's long system prompt does not make "what
// time is it" harder. Keywords are looked for only in the instruction part of
// the ask (instructionOf: the paragraph that introduces pasted material, or a
// short closing one), so words inside an attached paper or a pasted log do not
// count as the shape of the ask.
//
// Features and points:
//   strong cue    +4  a word that only complex work uses: prove, derive,
//                     design (a system), trade-offs, refactor, threat model,
//                     literature review, critically evaluate, root cause, ...
//   weak cue      +2  each of analyse, evaluate, compare/contrast, step by
//                     step, comprehensive, in depth, migration, forecast,
//                     justify, generalise, assumptions, concurrent,
//                     distributed, lock-free, and making a whole program
//                     ("write a compiler / an app / a REST API") (at most two)
//   task cue      +1.5 explain, describe, summarise, outline, proofread,
//                     rewrite, draft, debug, suggest, making an artefact
//                     ("write a function", "turn these notes into an email"),
//                     pros and cons, why, "how does X work", "how should I",
//                     best way, itinerary, plan, implement, troubleshooting
//                     ("what could be wrong", "what is going on")
//   brevity cue   -1.5 in one sentence, yes or no, one word, briefly, haiku,
//                     joke, synonym
//   ask size      +1.5 from 60 estimated tokens (a pasted text is work),
//                 +2.5 from 1,500, +4 from 5,000 (a book-sized input)
//   documents     +1.5 for two attached documents, +3 for three or more
//                     ("Paper 1:", "Chapter 2", or "these ten papers")
//   code          +1 a fenced code block, +1.5 more from 100 lines
//   long ask      +1 an instruction of 30 words or more
//   requirements  +1 a list of four parts in the instruction ("a, b, c and
//                     d"; commas inside parentheses do not count), +2 from five
//   several asks  +2 three or more different things asked for ("build ...,
//                     explain ..., and tell me ...")
//   multi-step    +1 "then" in the instruction ("explain X, then evaluate Y")
//   max_tokens    +1 from 700, +2 from 2,000; -2 at 16 or less (a short
//                     answer was asked for)
//   conversation  +1 from 8 user turns (the answer must use a long history)
// ---------------------------------------------------------------------------

export const SIMPLE_BELOW = 1.5;
export const COMPLEX_FROM = 4;

/** Asking for something to be made... */
const MAKE = "(?:write|draft|compose|create|make|generate|build|produce|prepare|turn)";
/** ...a piece of work a competent model writes in one go... */
const SMALL_ARTEFACTS =
  "emails?|letters?|story|essay|post|poem|function|script|program|query|tests?|report|class|speech|recipe|plan|itinerary|schedule|proposal|bio|regex|file|ideas";
/** ...or a whole program, which is a project. */
const LARGE_ARTEFACTS = "compiler|interpreter|app|application|rest api|api|service|website|game|library|framework|engine|platform";

const STRONG_CUES: readonly RegExp[] = [
  /\bprove\b|\bproof\b/,
  /\bderive\b|\bderivation\b/,
  /\bdesign (?:a|an|the)\b/,
  /\btrade-?offs?\b/,
  /\brefactor/,
  /\bthreat model/,
  /\bliterature review\b/,
  /\bcritically\b/,
  /\broot cause\b/,
  /\bsecond-order\b/,
  /\bsynthesi[sz]e\b/,
];

const WEAK_CUES: readonly RegExp[] = [
  /\banaly[sz]e\b|\banalysis\b/,
  /\bevaluate\b/,
  /\bcompar(?:e|ing)\b|\bcontrast/,
  /\bstep by step\b|\bevery step\b/,
  /\bcomprehensive\b|\bin[- ]depth\b|\bdetailed\b/,
  /\bmigrat(?:e|ions?)\b/,
  /\bforecast\b/,
  /\bjustif(?:y|ication)\b/,
  /\bgenerali[sz]e\b/,
  /\bassumptions?\b/,
  new RegExp(`\\b${MAKE}[^.?!]{0,40}?\\b(?:${LARGE_ARTEFACTS})\\b`),
  /\bconcurren(?:t|cy)\b/,
  /\bdistributed\b/,
  /\block-free\b/,
];

const TASK_CUES: readonly RegExp[] = [
  /\bexplain\b/,
  /\bdescribe\b/,
  /\bsummari[sz]e\b|\bsummary\b/,
  /\boutline\b/,
  /\bproofread\b/,
  /\brewrite\b/,
  /\bdraft\b/,
  new RegExp(`\\b${MAKE}[^.?!]{0,60}?\\b(?:${SMALL_ARTEFACTS})\\b(?! address)`),
  /\bdebug/,
  /\bsuggest\b/,
  /\bbest way\b|\bhow should (?:i|we)\b/,
  /\bunit tests?\b/,
  /\bpros and cons\b/,
  /\bwhy\b/,
  /\bhow (?:does|do)\b(?! (?:i|you)\b)/,
  /\bhelp me understand\b/,
  /\bwhat could (?:be )?(?:wrong|cause)|\bwhat(?:'s| is) (?:wrong|going on|happening)\b|\btroubleshoot/,
  /\bitinerary\b/,
  /\bplan\b/,
  /\bimplement\b/,
];

const BREVITY_CUES: readonly RegExp[] = [
  /\bin one (?:sentence|word|line)\b/,
  /\byes or no\b/,
  /\bone word\b/,
  /\bbriefly\b/,
  /\bhaiku\b/,
  /\bjoke\b/,
  /\bsynonym\b/,
];

/** An instruction longer than this is more likely pasted material. */
const INSTRUCTION_CHARS = 400;

const NUMBER_WORDS: Record<string, number> = {
  two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
};
const DOCUMENT_NOUNS = "papers|documents|articles|chapters|abstracts|contracts|reports|studies|files|transcripts|sources|essays";
const COUNTED_DOCUMENTS = new RegExp(`\\b(\\d+|${Object.keys(NUMBER_WORDS).join("|")}) (?:[a-z-]+ )?(?:${DOCUMENT_NOUNS})\\b`);
const DOCUMENT_HEADER = /^(?:paper|document|article|chapter|abstract|contract|report|study|file|transcript|source|essay) ([0-9]{1,3}|[a-z])\b/gm;

/** The ask: the last user message of a chat, or the whole completion prompt. */
export function askOf(input: GenerationInput): { ask: string; userTurns: number } {
  if (input.kind === "completion") return { ask: input.prompt, userTurns: 1 };
  let ask = "";
  let userTurns = 0;
  for (const turn of input.messages) {
    if (turn.role !== "user") continue;
    userTurns++;
    ask = turn.content;
  }
  return { ask, userTurns };
}

/**
 * Where people write what they want. Asks come as "Summarise this:" then the
 * text, or the text then "Summarise the above.": the first paragraph (before
 * any code) when it introduces material (ends with ':' or says this, these,
 * the following, below, here), else a short last paragraph, else the start of
 * the ask. Keywords inside the material itself would be noise.
 */
export function instructionOf(ask: string): string {
  const beforeCode = ask.split("```", 1)[0] ?? "";
  const paragraphs = beforeCode.split(/\n\s*\n/);
  const first = paragraphs[0] ?? "";
  if (paragraphs.length === 1 && !ask.includes("```")) return first.slice(0, INSTRUCTION_CHARS).toLowerCase();
  const last = ask.split(/\n\s*\n/).at(-1) ?? "";
  if (first.length <= INSTRUCTION_CHARS && (first.trimEnd().endsWith(":") || INTRODUCES.test(first))) {
    // A short question after the material is part of the ask ("...logs:\n\n<logs>\n\nWhat is going on?").
    const question = last !== first && last.length <= 300 && last.trimEnd().endsWith("?") ? `\n${last}` : "";
    return (first + question).toLowerCase();
  }
  if (last.length <= INSTRUCTION_CHARS && !last.includes("```")) return last.toLowerCase();
  return first.slice(0, INSTRUCTION_CHARS).toLowerCase();
}

const INTRODUCES = /\b(?:this|these|the following|below|here)\b/i;

function countDocuments(ask: string, instruction: string): number {
  const counted = COUNTED_DOCUMENTS.exec(instruction)?.[1];
  const named = counted === undefined ? 0 : (NUMBER_WORDS[counted] ?? Number(counted));
  if (ask.length < 2_000) return named; // headers only mean documents when there is room for them
  const headers = new Set<string>();
  for (const match of ask.toLowerCase().matchAll(DOCUMENT_HEADER)) headers.add(match[0]);
  return Math.max(named, headers.size);
}

/** The longest list in the instruction: "a, b, c and d" has four parts. Commas inside parentheses are column names, not requirements. */
function listParts(instruction: string): number {
  let most = 0;
  for (const sentence of instruction.replace(/\([^)]*\)/g, "").split(/[.;:?!]\s/)) {
    const pieces = sentence.split(", ");
    if (pieces.length < 2) continue;
    const lastJoined = / (?:and|or) /.test(pieces.at(-1) ?? "") && !/^(?:and|or) /.test(pieces.at(-1) ?? "");
    most = Math.max(most, pieces.length + (lastJoined ? 1 : 0));
  }
  return most;
}

/** Verbs of distinct things to do: three in one ask make it a several-part job. */
const ASK_VERBS =
  /\b(?:explain|describe|summari[sz]e|list|compare|build|write|draft|find|spot|propose|recommend|estimate|tell me|identify|categori[sz]e|calculate|compute|design|analy[sz]e|evaluate|justify|rank|review|fix|suggest|outline|create|implement|choose|forecast|give)\b/g;

export interface HeuristicScore {
  score: number;
  /** One short note per feature that counted, e.g. "strong cue 'prove' +4". */
  notes: string[];
}

export function heuristicScore(request: ClassifierInput): HeuristicScore {
  const { ask, userTurns } = askOf(request.input);
  const instruction = instructionOf(ask);
  const notes: string[] = [];
  let score = 0;
  const add = (points: number, note: string): void => {
    score += points;
    notes.push(`${note} ${points > 0 ? "+" : ""}${points}`);
  };

  const strong = STRONG_CUES.map((cue) => cue.exec(instruction)?.[0]).find((hit) => hit !== undefined);
  if (strong !== undefined) add(4, `strong cue '${strong}'`);
  const weak = WEAK_CUES.map((cue) => cue.exec(instruction)?.[0]).filter((hit) => hit !== undefined);
  if (weak.length > 0) add(2 * Math.min(2, weak.length), `weak cue ${weak.slice(0, 2).map((w) => `'${w}'`).join(", ")}`);
  const task = TASK_CUES.map((cue) => cue.exec(instruction)?.[0]).find((hit) => hit !== undefined);
  if (task !== undefined) add(1.5, `task cue '${task}'`);
  const brief = BREVITY_CUES.map((cue) => cue.exec(instruction)?.[0]).find((hit) => hit !== undefined);
  if (brief !== undefined) add(-1.5, `brevity cue '${brief}'`);

  const askTokens = estimateTokens(ask);
  if (askTokens >= 5_000) add(4, `${askTokens}-token ask`);
  else if (askTokens >= 1_500) add(2.5, `${askTokens}-token ask`);
  else if (askTokens >= 60) add(1.5, `${askTokens}-token ask`);

  const documents = countDocuments(ask, instruction);
  if (documents >= 3) add(3, `${documents} documents`);
  else if (documents === 2) add(1.5, "2 documents");

  if (ask.includes("```")) {
    add(1, "code");
    const lines = ask.split("\n").length;
    if (lines >= 100) add(1.5, `${lines} lines`);
  }

  const words = instruction.split(/\s+/).filter((w) => w.length > 0).length;
  if (words >= 30) add(1, `${words}-word instruction`);
  const parts = listParts(instruction);
  if (parts >= 5) add(2, `${parts}-part requirement list`);
  else if (parts === 4) add(1, "4-part requirement list");
  const asks = new Set<string>();
  for (const match of instruction.matchAll(ASK_VERBS)) asks.add(match[0]);
  if (asks.size >= 3) add(2, `${asks.size} things asked (${[...asks].join(", ")})`);
  if (/\bthen\b/.test(instruction)) add(1, "multi-step ask 'then'");

  const maxTokens = request.maxTokens;
  if (maxTokens !== undefined) {
    if (maxTokens <= 16) add(-2, `max_tokens ${maxTokens}`);
    else if (maxTokens >= 2_000) add(2, `max_tokens ${maxTokens}`);
    else if (maxTokens >= 700) add(1, `max_tokens ${maxTokens}`);
  }

  if (userTurns >= 8) add(1, `${userTurns} user turns`);
  return { score, notes };
}

export function classOfScore(score: number): ComplexityClass {
  if (score < SIMPLE_BELOW) return "SIMPLE";
  return score < COMPLEX_FROM ? "MEDIUM" : "COMPLEX";
}

export const heuristicClassifier: SyncClassifier = {
  name: "heuristic",
  classify(request: ClassifierInput): Classification {
    const { score, notes } = heuristicScore(request);
    const cls = classOfScore(score);
    const why = notes.length === 0 ? "a short ask with no task cues" : notes.join(", ");
    return { class: cls, reason: `score ${score} (${why})` };
  },
};

/** What a classifier reads from a generation request; promptTokens is the estimate route() needs too. */
export function classifierInputOf(generation: GenerationRequest): ClassifierInput {
  return { input: generation.input, promptTokens: estimatePromptTokens(generation.input), maxTokens: generation.params.maxTokens };
}
