// What the heuristic classifier reads of a request: the ask (the last user
// message, or the completion prompt), and of the ask only its start and its
// end. People write what they want before pasted material ("Summarise
// this:") or after it ("What is the main finding?"); the middle of a long
// ask is the material itself, and reading it made classification cost grow
// with the prompt (0.3 ms at 100 KB, 3 ms at 1 MB, on the request's path).
// So a long ask is read as its first HEAD_CHARS and its last TAIL_CHARS;
// its length, which the size features need, is known without reading it.
import type { GenerationInput } from "@flotilla/protocol";

/** Read from the start of a long ask: the instruction, any opening list, the first documents' headers. */
export const HEAD_CHARS = 8_192;
/** Read from its end: enough for a last paragraph that could be an instruction (at most INSTRUCTION_CHARS). */
export const TAIL_CHARS = 2_048;
/** An instruction longer than this is more likely pasted material. */
export const INSTRUCTION_CHARS = 400;

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

/** The parts of an ask that are read. A short ask is read whole (`head`, no `tail`). */
export interface AskView {
  head: string;
  /** The last TAIL_CHARS of an ask too long to read whole; "" otherwise. */
  tail: string;
  /** The ask's full length in characters. */
  length: number;
}

export function viewOf(ask: string): AskView {
  if (ask.length <= HEAD_CHARS + TAIL_CHARS) return { head: ask, tail: "", length: ask.length };
  // slice() of a long string is a view in V8, not a copy: this costs nothing per byte.
  return { head: ask.slice(0, HEAD_CHARS), tail: ask.slice(-TAIL_CHARS), length: ask.length };
}

/** The text read, as one or two parts (never overlapping, so nothing is counted twice). */
export function partsOf(view: AskView): string[] {
  return view.tail === "" ? [view.head] : [view.head, view.tail];
}

export function hasCode(view: AskView): boolean {
  return partsOf(view).some((part) => part.includes("```"));
}

/** Lines of the ask: counted where it was read, the skipped middle assumed as dense as the rest. */
export function lineCount(view: AskView): number {
  const parts = partsOf(view);
  let breaks = 0;
  let read = 0;
  for (const part of parts) {
    read += part.length;
    for (let i = part.indexOf("\n"); i >= 0; i = part.indexOf("\n", i + 1)) breaks++;
  }
  const skipped = view.length - read;
  return 1 + breaks + (skipped > 0 ? Math.round((breaks * skipped) / read) : 0);
}

const PARAGRAPH_BREAK = /\n\s*\n/;
const INTRODUCES = /\b(?:this|these|the following|below|here)\b/i;
/** How asks begin: a request, a question, an imperative, a hint of form. */
const ASK_START =
  /^(?:please|pls|now|so|ok(?:ay)?|hi|hey|can you|could you|would you|will you|i need|i want|i'd like|help|give me|tell me|show me|summari[sz]e|explain|describe|list|extract|pull out|find|identify|translate|rewrite|proofread|write|draft|compose|create|make|generate|build|produce|prepare|turn|implement|compare|review|analy[sz]e|evaluate|critically|read|answer|what|what's|whats|who|whose|when|where|which|why|how|is|are|does|do|did|can|should|tl;?dr|in (?:a|one|two|three|five|a few)\b|briefly|based on)\b/i;

/** A pasted email or message ("From: Lena\nTo: team\n... reply by Thursday?") is material, even when it ends with a question. */
const MESSAGE_HEADER = /^(?:from|to|cc|subject|date|sent|re|fwd?):[ \t]/i;

/**
 * Whether a paragraph reads as an ask rather than material: it ends with a
 * question mark or a colon ("TL;DR:", "Summary:"), or it is short and starts
 * as asks do. Long paragraphs that merely start with "When" or "How" are
 * prose, and so is a message with its headers.
 */
function readsAsAsk(paragraph: string): boolean {
  const text = paragraph.trim();
  if (text.length === 0 || text.length > INSTRUCTION_CHARS || MESSAGE_HEADER.test(text)) return false;
  return text.endsWith("?") || text.endsWith(":") || (text.length <= 300 && ASK_START.test(text));
}

/** The last paragraph, or undefined when the tail holds no paragraph break (the last paragraph is then too long to be an ask). */
function lastParagraph(view: AskView): string | undefined {
  const text = view.tail === "" ? view.head : view.tail;
  const breaks = [...text.matchAll(/\n\s*\n/g)];
  const last = breaks.at(-1);
  if (last === undefined) return view.tail === "" ? text : undefined;
  return text.slice(last.index + last[0].length);
}

export interface Ends {
  /** The first paragraph, before any code; its first line when that asks and the paragraph is too long to be an ask. */
  first: string;
  /** The last paragraph when it could be an instruction (short, no code, not the first one); else undefined. */
  last: string | undefined;
  /** The whole ask is one paragraph without code. */
  single: boolean;
}

export function endsOf(view: AskView): Ends {
  const beforeCode = view.head.split("```", 1)[0] ?? "";
  const firstBreak = PARAGRAPH_BREAK.exec(beforeCode);
  const paragraph = firstBreak === null ? beforeCode : beforeCode.slice(0, firstBreak.index);
  // "Summarise this log:\n<the log>" with no blank line: a paragraph too long to be an ask may start with one.
  const newline = paragraph.indexOf("\n");
  const line = paragraph.length > INSTRUCTION_CHARS && newline > 0 ? paragraph.slice(0, newline) : paragraph;
  const first = line !== paragraph && readsAsAsk(line) ? line : paragraph;
  const single = firstBreak === null && view.tail === "" && !hasCode(view) && first === paragraph;
  const last = single ? undefined : lastParagraph(view);
  const usable = last !== undefined && last !== first && last.length <= INSTRUCTION_CHARS && !last.includes("```");
  return { first, last: usable ? last : undefined, single };
}

/**
 * Where people write what they want. Asks come as "Summarise this:" then the
 * text, or the text then "What is the main finding?". In order:
 * 1. the first paragraph (before any code; its first line, when the text
 *    follows on the next line), when it plainly asks (ends with ':' or '?',
 *    or is a short request), with a short closing question if any;
 * 2. else the last paragraph, when it plainly asks: a document pasted first
 *    may open with "This Agreement is entered into..." or "In this paper we
 *    prove...", which is material, not the ask;
 * 3. else the first paragraph when it introduces material (this, these, the
 *    following, below, here);
 * 4. else a short last paragraph, else the start of the ask.
 * Keywords inside the material itself would be noise.
 */
export function instructionOf(ask: string): string {
  return instructionFrom(endsOf(viewOf(ask)));
}

/** instructionOf, from ends already found (the classifier needs them for more than this). */
export function instructionFrom({ first, last, single }: Ends): string {
  // One paragraph and no code: the whole ask is the instruction (its start, if long).
  if (single) return first.slice(0, INSTRUCTION_CHARS).toLowerCase();
  const firstShort = first.length <= INSTRUCTION_CHARS;
  const closingQuestion = last !== undefined && last.length <= 300 && last.trimEnd().endsWith("?") ? `\n${last}` : "";
  if (firstShort && readsAsAsk(first)) return (first + closingQuestion).toLowerCase();
  if (last !== undefined && readsAsAsk(last)) return last.toLowerCase();
  if (firstShort && INTRODUCES.test(first)) return (first + closingQuestion).toLowerCase();
  if (last !== undefined) return last.toLowerCase();
  return first.slice(0, INSTRUCTION_CHARS).toLowerCase();
}
