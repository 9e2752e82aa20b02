// Embeddings from a llama.cpp model through node-llama-cpp: one embedding
// context per model, made on first use (a chat-only fleet never pays its
// memory), and used by one request at a time: node-llama-cpp's embedding
// context evaluates one input at a time, so concurrent requests queue here
// (each still holds an agent slot while it waits).
import type { LlamaEmbeddingContext, LlamaModel, Token } from "node-llama-cpp";
import { FlotillaError, normalise, type EmbeddingInput, type EmbeddingResult } from "@flotilla/protocol";

export class LlamaEmbedder {
  readonly #model: LlamaModel;
  readonly #contextSize: number;
  readonly #threads: number;
  readonly #vocabularySize: number;
  #context: Promise<LlamaEmbeddingContext> | undefined;
  /** The tail of the queue of requests: each waits for the one before. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(model: LlamaModel, contextSize: number, threads: number) {
    this.#model = model;
    this.#contextSize = contextSize;
    this.#threads = threads;
    this.#vocabularySize = vocabularySizeOf(model);
  }

  get dimensions(): number {
    return this.#model.embeddingVectorSize;
  }

  embed(input: EmbeddingInput, signal: AbortSignal): Promise<EmbeddingResult> {
    if (input.dimensions !== undefined && input.dimensions !== this.dimensions) {
      throw new FlotillaError(
        "unsupported_parameter",
        `this model's embeddings have ${this.dimensions} dimensions and cannot be shortened to ${input.dimensions}`,
        { param: "dimensions" },
      );
    }
    // Every item is checked before any is evaluated: a bad item at the end
    // must not cost the evaluation of all before it.
    const tokenised = input.items.map((item, i) => this.#tokens(item, i));
    const run = this.#turn.then(() => this.#evaluate(tokenised, signal));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    const context = this.#context;
    this.#context = undefined;
    if (context) await (await context).dispose();
  }

  async #evaluate(items: Token[][], signal: AbortSignal): Promise<EmbeddingResult> {
    this.#context ??= this.#model.createEmbeddingContext({ contextSize: this.#contextSize, threads: this.#threads });
    const context = await this.#context;
    const vectors: number[][] = [];
    let promptTokens = 0;
    for (const tokens of items) {
      if (signal.aborted) throw signal.reason;
      const embedding = await context.getEmbeddingFor(tokens);
      vectors.push(normalise(embedding.vector));
      promptTokens += tokens.length;
    }
    return { vectors, promptTokens };
  }

  #tokens(item: string | number[], index: number): Token[] {
    const param = `input[${index}]`;
    const tokens = typeof item === "string" ? this.#model.tokenize(item) : (item as Token[]);
    // Token ids from a client go to llama.cpp as they are: one outside the
    // vocabulary would read past its tables.
    if (typeof item !== "string" && item.some((t) => t >= this.#vocabularySize)) {
      throw new FlotillaError("invalid_request", `token ids must be below this model's vocabulary size, ${this.#vocabularySize}`, { param });
    }
    if (tokens.length === 0) throw new FlotillaError("invalid_request", "an input to embed must not be empty", { param });
    if (tokens.length > this.#contextSize) {
      throw new FlotillaError(
        "context_length_exceeded",
        `this model embeds at most ${this.#contextSize} tokens at a time, but ${param} has ${tokens.length}`,
        { param },
      );
    }
    return tokens;
  }
}

function vocabularySizeOf(model: LlamaModel): number {
  const tokens: unknown = model.fileInfo.metadata.tokenizer.ggml.tokens;
  if (Array.isArray(tokens) && tokens.length > 0) return tokens.length;
  let size = 0;
  for (const _ of model.iterateAllTokens()) size++;
  return size;
}
