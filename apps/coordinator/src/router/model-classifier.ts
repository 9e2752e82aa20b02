// The optional classifier that asks a small model (on a tier-0 node) how
// hard a request is, for clusters whose traffic the heuristic misjudges. It
// only ever improves on the heuristic: a model that is slow, down, or answers
// with anything but one of the three class names leaves the heuristic's
// class in place, and the reason says which happened. The question goes
// through `ask` (the dispatcher, with a fixed class so classifying never
// recurses); this file is the prompt and the reading of the answer.
import { askOf, heuristicClassifier, type Classification, type Classifier, type ClassifierInput, type ComplexityClass } from "./classify.ts";

/** What the model is shown of the ask: enough to judge it, little enough to answer fast. */
export const CLASSIFIER_EXCERPT_CHARS = 1_500;

export interface ModelClassifierOptions {
  /** Sends the prompt to the classifier model; resolves its answer text. */
  ask: (prompt: string, signal: AbortSignal) => Promise<{ text: string; node: string | null }>;
  /** The classifier model's name, for reasons. */
  model: string;
  /** A classification slower than this falls back to the heuristic. */
  timeoutMs: number;
  fallback?: Classifier;
}

export function classifierPrompt(request: ClassifierInput): string {
  const { ask, userTurns } = askOf(request.input);
  const excerpt = ask.length > CLASSIFIER_EXCERPT_CHARS ? `${ask.slice(0, CLASSIFIER_EXCERPT_CHARS)} […]` : ask;
  return [
    "Classify how hard this request is for a language model. Answer with one word:",
    "SIMPLE (a fact, a greeting, a short answer), MEDIUM (explain, summarise, write a few paragraphs),",
    "or COMPLEX (reason over several documents, long code, multi-step analysis).",
    `The conversation has ${userTurns} user turn(s), about ${request.promptTokens} tokens` +
      (request.maxTokens === undefined ? "." : `, and asks for up to ${request.maxTokens} tokens.`),
    "Request:",
    excerpt,
    "Answer:",
  ].join("\n");
}

/** The first class name in the answer, as a word on its own; undefined when there is none. */
export function classInAnswer(answer: string): ComplexityClass | undefined {
  const match = /\b(SIMPLE|MEDIUM|COMPLEX)\b/i.exec(answer);
  return match ? (match[1]?.toUpperCase() as ComplexityClass) : undefined;
}

export class ModelClassifier implements Classifier {
  readonly name = "model";
  readonly #o: ModelClassifierOptions;
  readonly #fallback: Classifier;

  constructor(options: ModelClassifierOptions) {
    this.#o = options;
    this.#fallback = options.fallback ?? heuristicClassifier;
  }

  async classify(request: ClassifierInput): Promise<Classification> {
    let problem: string;
    try {
      const answer = await this.#o.ask(classifierPrompt(request), AbortSignal.timeout(this.#o.timeoutMs));
      const cls = classInAnswer(answer.text);
      const where = `${this.#o.model}${answer.node === null ? "" : ` on ${answer.node}`}`;
      if (cls) return { class: cls, reason: `asked ${where}` };
      problem = `asked ${where}, no class in its answer`;
    } catch (err) {
      problem = `could not ask ${this.#o.model}: ${err instanceof Error ? err.message : String(err)}`;
    }
    const fallback = await this.#fallback.classify(request);
    return { class: fallback.class, reason: `${problem}; ${this.#fallback.name}: ${fallback.reason}` };
  }
}
