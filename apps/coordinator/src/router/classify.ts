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
import { askOf, endsOf, hasCode, instructionFrom, lineCount, partsOf, viewOf, type AskView, type Ends } from "./ask-text.ts";
import {
  ASK_VERBS,
  BREVITY_CUES,
  COUNTED_DOCUMENTS,
  DOCUMENT_HEADER,
  FROM_THE_TEXT,
  HYPOTHETICAL,
  LIST_IS_DATA,
  LIST_ITEM,
  NUMBER_WORDS,
  PROGRAM_ASK,
  PROGRAM_NOUN,
  READ_CUES,
  REWORK_CUES,
  SNIPPET_ASK,
  STRONG_CUES,
  TASK_CUES,
  TROUBLESHOOT,
  WEAK_CUES,
  WRITE_IT,
} from "./cues.ts";
import { estimatePromptTokens, estimateTokens } from "./tokens.ts";

export { askOf, instructionOf } from "./ask-text.ts";

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
// time is it" harder. Of a long ask it reads only the start and the end
// (ask-text.ts: 8 KB and 2 KB), so its cost does not grow with the prompt;
// the ask's length is known without reading it. Keywords are looked for only
// in the instruction part of the ask (instructionOf: the paragraph that asks,
// before or after pasted material), so words inside an attached paper or a
// pasted log do not count as the shape of the ask. Cues are in cues.ts.
//
// Features and points:
//   strong cue    +4  a word that only complex work uses: prove, derive,
//                     design (a system), trade-offs, refactor, threat model,
//                     literature review, critically evaluate, root cause, ...
//   weak cue      +2  each of analyse, evaluate, compare/contrast, step by
//                     step, comprehensive, in depth, migration, forecast,
//                     justify, generalise, assumptions, concurrent,
//                     distributed, lock-free, "could have" (what else might
//                     have happened), and making a whole program ("write a
//                     compiler / an app / a REST API") (at most two)
//   task cue      +1.5 explain, describe, summarise, outline, proofread,
//                     rewrite, draft, debug, suggest, making an artefact
//                     ("write a function", "turn these notes into an email"),
//                     pros and cons, why, "how does X work", "how should I",
//                     best way, itinerary, plan, implement, troubleshooting
//                     ("what could be wrong", "what is going on"), making a
//                     program ("write a web scraper"; "Requirements for the
//                     CLI: ... Write it in Go.")
//   brevity cue   -1.5 in one sentence, yes or no, one word, one-line,
//                     briefly, haiku, joke, synonym
//   ask size      +1.5 from 60 estimated tokens (a pasted text is work),
//                 +2.5 from 1,500, +4 from 5,000 (a book-sized input)
//   documents     +1.5 for two attached documents, +3 for three or more
//                     ("Paper 1:", "Chapter 2", or "these ten papers")
//   code          +1 a fenced code block, +1.5 more from 100 lines
//   long ask      +1 an instruction of 30 words or more
//   requirements  +1 a list of four parts in the instruction ("a, b, c and
//                     d"; commas inside parentheses do not count), +2 from
//                     five; for code, a bulleted or numbered list counts too;
//                     a list to sort, rank or pick from is data, not counted
//   one program   +1.5 five or more requirements for one program (a script,
//                     a service, an app, a CLI; not a function or a class):
//                     hundreds of lines that must meet every one at once
//   several asks  +2 three or more different things asked for ("build ...,
//                     explain ..., and tell me ...")
//   multi-step    +1 "then" in the instruction ("explain X, then evaluate Y")
//   max_tokens    +1 from 700, +2 from 2,000; -2 at 16 or less (a short
//                     answer was asked for)
//   conversation  +1 from 8 user turns (the answer must use a long history)
// And one rule over the total:
//   one document, plain ask: an ask of 1,500 tokens or more whose
//                     instruction only asks what the text says (summarise it,
//                     the main finding, extract the methods, a question about
//                     it) is MEDIUM, whatever the points. Not COMPLEX: the
//                     work is reading one text and the answer is short, which
//                     a tier-1 model does well (the size points would
//                     otherwise make any long summary COMPLEX). Not SIMPLE: a
//                     tier-0 model loses the thread over thousands of tokens
//                     and its CPU prefills them slowly. Judging the text
//                     (critically, evaluate, compare), predicting from it
//                     (what would happen), several documents, or an answer
//                     as long as the text (translate, rewrite) are not plain
//                     asks and keep their points. A MEDIUM request
//                     too long for every tier-1 window still reaches tier 2:
//                     route.ts skips nodes it does not fit.
// ---------------------------------------------------------------------------

export const SIMPLE_BELOW = 1.5;
export const COMPLEX_FROM = 4;
/** From this many estimated tokens an ask is a long document (the "+2.5" size step). */
export const LONG_ASK_TOKENS = 1_500;

function countDocuments(view: AskView, instruction: string): number {
  const counted = COUNTED_DOCUMENTS.exec(instruction)?.[1];
  const named = counted === undefined ? 0 : (NUMBER_WORDS[counted] ?? Number(counted));
  if (view.length < 2_000) return named; // headers only mean documents when there is room for them
  // Headers in the skipped middle of a very long ask are not seen; "these two reports" in the instruction still counts.
  const headers = new Set<string>();
  for (const part of partsOf(view)) for (const match of part.matchAll(DOCUMENT_HEADER)) headers.add(match[0].trim().toLowerCase());
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

/** Lines of a bulleted or numbered list in what was read of the ask. */
function listItems(view: AskView): number {
  let items = 0;
  for (const part of partsOf(view)) for (const _ of part.matchAll(LIST_ITEM)) items++;
  return items;
}

/** What kind of code the ask wants made, if any: a program (a script, a service, a CLI) or a snippet (a function, a class). */
function codeAsked({ first, last }: Ends, instruction: string): "program" | "snippet" | undefined {
  if (PROGRAM_ASK.test(instruction)) return "program";
  if (SNIPPET_ASK.test(instruction)) return "snippet";
  // "Requirements for the CLI: <list> ... Write it in Go.": the program is named in the opening line, the ask is at the end.
  const opening = (first.split("\n", 1)[0] ?? "").toLowerCase();
  const closing = (last ?? "").toLowerCase();
  if ((WRITE_IT.test(instruction) || WRITE_IT.test(closing)) && PROGRAM_NOUN.test(opening)) return "program";
  return undefined;
}

/**
 * The instruction only asks what the text says: a summary, its main finding,
 * an extraction, a question about it. Not when it asks for a judgment (a
 * strong cue, unless "according to the report"), a cause to find, a
 * prediction, or a reworking or advice beyond the text. The caller also
 * rules out weak cues, several documents and several-part asks.
 */
function asksWhatTheTextSays(instruction: string, strong: string | undefined): boolean {
  if (!READ_CUES.test(instruction)) return false;
  if (strong !== undefined && !FROM_THE_TEXT.test(instruction)) return false;
  return !TROUBLESHOOT.test(instruction) && !HYPOTHETICAL.test(instruction) && !REWORK_CUES.test(instruction);
}

export interface HeuristicScore {
  score: number;
  /** One short note per feature that counted, e.g. "strong cue 'prove' +4". */
  notes: string[];
}

export function heuristicScore(request: ClassifierInput): HeuristicScore {
  const { ask, userTurns } = askOf(request.input);
  const view = viewOf(ask);
  const ends = endsOf(view);
  const instruction = instructionFrom(ends);
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
  const code = codeAsked(ends, instruction);
  const task = TASK_CUES.map((cue) => cue.exec(instruction)?.[0]).find((hit) => hit !== undefined);
  if (task !== undefined) add(1.5, `task cue '${task}'`);
  else if (code === "program") add(1.5, "task cue: a program to write"); // "Requirements for the CLI: ... Write it in Go."
  const brief = BREVITY_CUES.map((cue) => cue.exec(instruction)?.[0]).find((hit) => hit !== undefined);
  if (brief !== undefined) add(-1.5, `brevity cue '${brief}'`);

  const askTokens = estimateTokens(ask);
  if (askTokens >= 5_000) add(4, `${askTokens}-token ask`);
  else if (askTokens >= LONG_ASK_TOKENS) add(2.5, `${askTokens}-token ask`);
  else if (askTokens >= 60) add(1.5, `${askTokens}-token ask`);

  const documents = countDocuments(view, instruction);
  if (documents >= 3) add(3, `${documents} documents`);
  else if (documents === 2) add(1.5, "2 documents");

  if (hasCode(view)) {
    add(1, "code");
    const lines = lineCount(view);
    if (lines >= 100) add(1.5, `${lines} lines`);
  }

  const words = instruction.split(/\s+/).filter((w) => w.length > 0).length;
  if (words >= 30) add(1, `${words}-word instruction`);
  const items = code === undefined ? 0 : listItems(view);
  const parts = Math.max(LIST_IS_DATA.test(instruction) ? 0 : listParts(instruction), items);
  const listed = items >= parts && items > 0 ? "-item requirement list" : "-part requirement list";
  if (parts >= 5) add(2, `${parts}${listed}`);
  else if (parts === 4) add(1, `4${listed}`);
  if (code === "program" && parts >= 5) add(1.5, `one program, ${parts} requirements`);
  const asks = new Set<string>();
  for (const match of instruction.matchAll(ASK_VERBS)) asks.add(match[0]);
  if (asks.size >= 3) add(2, `${asks.size} things asked (${[...asks].join(", ")})`);
  const then = /\bthen\b/.test(instruction);
  if (then) add(1, "multi-step ask 'then'");

  const maxTokens = request.maxTokens;
  if (maxTokens !== undefined) {
    if (maxTokens <= 16) add(-2, `max_tokens ${maxTokens}`);
    else if (maxTokens >= 2_000) add(2, `max_tokens ${maxTokens}`);
    else if (maxTokens >= 700) add(1, `max_tokens ${maxTokens}`);
  }

  if (userTurns >= 8) add(1, `${userTurns} user turns`);

  const plain = words < 30 && weak.length === 0 && documents < 2 && asks.size < 3 && !then && asksWhatTheTextSays(instruction, strong);
  if (plain && askTokens >= LONG_ASK_TOKENS) {
    const held = Math.min(Math.max(score, SIMPLE_BELOW), COMPLEX_FROM - 0.5);
    if (held !== score) add(held - score, "one document, plain ask: MEDIUM");
  }
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
