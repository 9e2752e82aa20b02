// Embedded llama.cpp through node-llama-cpp: one model, one context holding
// `parallelSequences` sequences that llama.cpp evaluates in the same batch.
import {
  getLlama,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from "node-llama-cpp";
import {
  FlotillaError,
  isEmbedding,
  isGeneration,
  type Capability,
  type GenerationRequest,
  type GenerationResult,
  type RunOptions,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";
import type { InferenceBackend } from "./backend.ts";
import { LlamaEmbedder } from "./llama-embeddings.ts";
import { generateOn } from "./llama-generation.ts";
import { planOutput } from "./output-plan.ts";
import { ModelFacts } from "./model-details.ts";

export type GpuChoice = "auto" | "off" | "cuda" | "vulkan" | "metal";

export interface LlamaRuntimeOptions {
  gpu: GpuChoice;
  /**
   * llama.cpp's threads spin-wait: with the default count on a small machine
   * that is busy with anything else, throughput collapses (700 → 2 tokens/s
   * measured on the 2-core CI machine). So it is always set explicitly.
   */
  threads: number;
}

export interface LlamaModelOptions {
  modelId: string;
  path: string;
  parallelSequences: number;
  /** Tokens per sequence; capped at what the model was trained on. */
  contextSize: number;
  threads: number;
}

export async function startLlamaRuntime(options: LlamaRuntimeOptions): Promise<Llama> {
  return getLlama({
    gpu: options.gpu === "off" ? false : options.gpu,
    maxThreads: options.threads,
    logLevel: LlamaLogLevel.error,
    // Never try to download or compile llama.cpp at run time: use the
    // prebuilt binaries that came with the npm package.
    build: "never",
  });
}

export async function loadLlamaModel(llama: Llama, options: LlamaModelOptions): Promise<LlamaCppBackend> {
  let model: Awaited<ReturnType<Llama["loadModel"]>>;
  try {
    model = await llama.loadModel({ modelPath: options.path });
  } catch (err) {
    // llama.cpp's own words ("Invalid GGUF magic") name no file: with several --model flags, say which.
    throw new Error(`cannot load model "${options.modelId}" from ${options.path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    const context = await model.createContext({
      sequences: options.parallelSequences,
      contextSize: Math.min(options.contextSize, model.trainContextSize),
      threads: { ideal: options.threads, min: 1 },
    });
    const sequences = Array.from({ length: options.parallelSequences }, () => context.getSequence());
    const embedder = new LlamaEmbedder(model, context.contextSize, options.threads);
    return new LlamaCppBackend(options.modelId, model, context, sequences, embedder, new ModelFacts(options.path, model.fileInfo));
  } catch (err) {
    await model.dispose();
    throw err;
  }
}

/**
 * Encoder-only architectures (BERT and its kin: nomic-embed, bge, e5, jina)
 * only embed; every other model llama.cpp runs both generates and embeds
 * (its last hidden state, pooled, as Ollama does for any model).
 */
export function capabilitiesOf(architecture: string): Capability[] {
  return /bert|t5encoder/i.test(architecture) ? ["embed"] : ["chat", "embed", "tools", "json"];
}

export class LlamaCppBackend implements InferenceBackend {
  readonly modelId: string;
  readonly parallelSequences: number;
  readonly capabilities: readonly Capability[];
  /** What the file is, for Ollama's details and /api/show (model-details.ts). */
  readonly facts: ModelFacts;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #embedder: LlamaEmbedder;
  /**
   * Sequences are created once and reused: llama.cpp frees a disposed
   * sequence's id only later, so creating one per request runs out.
   */
  readonly #idle: LlamaContextSequence[];

  constructor(modelId: string, model: LlamaModel, context: LlamaContext, sequences: LlamaContextSequence[], embedder: LlamaEmbedder, facts: ModelFacts) {
    this.modelId = modelId;
    this.facts = facts;
    this.#model = model;
    this.#context = context;
    this.#idle = sequences;
    this.#embedder = embedder;
    this.parallelSequences = sequences.length;
    this.capabilities = capabilitiesOf(model.fileInfo.metadata.general.architecture);
  }

  get contextSize(): number {
    return this.#context.contextSize;
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    if (isEmbedding(workload)) return { kind: "embedding", ...(await this.#embedder.embed(workload.input, options.signal)) };
    if (isGeneration(workload)) return { kind: "generation", ...(await this.#generate(workload, options)) };
    // The agent checks capabilities first; a model file never advertises speech.
    throw new FlotillaError("model_not_capable", `"${this.modelId}" is a language model, not a speech engine`, { param: "model" });
  }

  async #generate(request: GenerationRequest, options: RunOptions): Promise<GenerationResult> {
    this.#checkPromptFits(request);
    const plan = planOutput(request);
    const sequence = this.#idle.pop();
    // The agent's SlotPool admits at most parallelSequences requests.
    if (!sequence) throw new Error("no idle sequence: more generations than slots");
    try {
      await sequence.clearHistory();
      return await generateOn(this.#model, sequence, request, plan, options);
    } finally {
      this.#idle.push(sequence);
    }
  }

  /** A prompt larger than the context can never be answered: say so. */
  #checkPromptFits(request: GenerationRequest): void {
    const text =
      request.input.kind === "completion"
        ? request.input.prompt
        : request.input.messages.map((m) => m.content).join("\n");
    const tokens = this.#model.tokenize(text).length;
    if (tokens >= this.contextSize) {
      throw new FlotillaError(
        "context_length_exceeded",
        `this model's context holds ${this.contextSize} tokens, but the prompt has at least ${tokens}`,
        { param: request.input.kind === "completion" ? "prompt" : "messages" },
      );
    }
  }

  async dispose(): Promise<void> {
    await this.#embedder.dispose();
    await this.#context.dispose();
    await this.#model.dispose();
  }
}
