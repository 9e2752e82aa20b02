// One generation on one llama.cpp sequence: the prompt rendered by the
// model's own chat template (or taken as is for a completion), the output
// held to the request's plan (output-plan.ts), streamed as chunks, and
// ended by max_tokens, a stop sequence, the model, or a full context.
import { randomUUID } from "node:crypto";
import {
  LlamaChat,
  LlamaCompletion,
  type ChatHistoryItem,
  type GbnfJsonSchema,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
} from "node-llama-cpp";
import {
  DEFAULT_MAX_TOKENS_LIMIT,
  FlotillaError,
  type Chunk,
  type FinishReason,
  type GenerationRequest,
  type GenerationResult,
  type RunOptions,
  type ToolCall,
} from "@flotilla/protocol";
import { toChatHistory } from "./chat-history.ts";
import type { MustCall, OutputPlan } from "./output-plan.ts";
import { StopMatcher } from "./stop-matcher.ts";

type StopReason = "eogToken" | "stopGenerationTrigger" | "customStopTrigger" | "maxTokens" | "abort" | "functionCalls";

export async function generateOn(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  request: GenerationRequest,
  plan: OutputPlan,
  options: RunOptions,
): Promise<GenerationResult> {
  const { params } = request;
  const contextSize = sequence.context.contextSize;
  const calls = new CallStream(options.onChunk);
  // Stop sequences are matched here rather than by node-llama-cpp, which
  // drops the text of a token that only partly precedes the stop sequence.
  // They end text, never a call's arguments (which a stop would leave invalid).
  const stopper = new StopMatcher(plan.kind === "must-call" ? [] : params.stop);
  const stopNow = new AbortController();
  let text = "";
  let promptTokens: number | undefined;
  let completionTokens = 0;
  let tokensSent = 0;
  const send = (piece: string) => {
    if (piece === "") return;
    text += piece;
    if (plan.kind === "must-call" && plan.call.kind === "named") {
      calls.add(0, plan.call.name, piece);
      return;
    }
    // A must-call among several is read when complete (its name comes first in the JSON, but inside it).
    if (plan.kind === "must-call") return;
    // The tokens generated since the last piece: the stop matcher may hold
    // text back, so a piece can stand for several tokens, or for none.
    options.onChunk?.({ type: "text", text: piece, tokens: completionTokens - tokensSent });
    tokensSent = completionTokens;
  };
  // The answer ends where the context is full, whatever max_tokens says:
  // node-llama-cpp would otherwise shift the context and go on for as long
  // as a client asked, holding the slot (ADR 0017).
  let contextFull = false;
  const common = {
    signal: AbortSignal.any([options.signal, stopNow.signal]),
    stopOnAbortSignal: true,
    onTextChunk: (chunk: string) => {
      send(stopper.push(chunk));
      if (stopper.stopped) stopNow.abort();
    },
    onToken: (tokens: readonly unknown[]) => {
      // Before the first generated token enters the context, the context
      // holds exactly the prompt as llama.cpp evaluated it.
      promptTokens ??= sequence.contextTokens.length;
      completionTokens += tokens.length;
      if (promptTokens + completionTokens >= contextSize) {
        contextFull = true;
        stopNow.abort();
      }
    },
    maxTokens: Math.min(params.maxTokens ?? DEFAULT_MAX_TOKENS_LIMIT, contextSize),
    temperature: params.temperature ?? 1,
    topP: params.topP,
    topK: params.topK,
    seed: params.seed,
    repeatPenalty:
      params.presencePenalty === undefined && params.frequencyPenalty === undefined
        ? false
        : { presencePenalty: params.presencePenalty, frequencyPenalty: params.frequencyPenalty },
  } as const;

  const grammar = await grammarFor(model, plan);
  let stopReason: StopReason;
  let modelCalls: ToolCall[] = [];
  if (request.input.kind === "completion") {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    const { metadata } = await completion.generateCompletionWithMeta(request.input.prompt, {
      ...common,
      ...(grammar ? { grammar } : {}),
      disableContextShift: true,
    });
    stopReason = metadata.stopReason;
  } else {
    const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const history = toChatHistory(request.input.messages);
      if (plan.kind === "may-call") {
        const answer = await chat.generateResponse(history, {
          ...common,
          functions: plan.functions,
          documentFunctionParams: true,
          ...(plan.maxParallel === undefined ? {} : { maxParallelFunctionCalls: plan.maxParallel }),
          onFunctionCallParamsChunk: (chunk) => calls.add(chunk.callIndex, chunk.functionName, chunk.paramsChunk),
        });
        stopReason = answer.metadata.stopReason;
        modelCalls = (answer.functionCalls ?? []).map((call, i) => calls.finish(i, call.functionName, JSON.stringify(call.params ?? {})));
      } else {
        // A call the model must make is written under a grammar, so the
        // functions are described the way its template describes them.
        if (plan.kind === "must-call") documentFunctions(chat, history, plan.functions);
        stopReason = (await chat.generateResponse(history, { ...common, ...(grammar ? { grammar } : {}) })).metadata.stopReason;
      }
    } catch (err) {
      throw contextOverflow(err, contextSize) ?? err;
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }
  if (options.signal.aborted) throw options.signal.reason;
  send(stopper.flush());
  if (plan.kind === "must-call") modelCalls = mustCallResult(plan.call, text, calls);
  const finishReason: FinishReason = contextFull
    ? "length"
    : stopReason === "maxTokens"
      ? "length"
      : modelCalls.length > 0
        ? "tool_calls"
        : "stop";
  // Calls are not text: the client gets `content: null` and the calls, as from OpenAI.
  if (plan.kind === "must-call") text = "";
  const evaluated = sequence.contextTokens.length - (promptTokens ?? sequence.contextTokens.length);
  return {
    text,
    finishReason,
    ...(modelCalls.length > 0 ? { toolCalls: modelCalls } : {}),
    promptTokens: promptTokens ?? sequence.contextTokens.length,
    // A function call's tokens are not reported to onToken (it reports the main response only); the context holds them.
    completionTokens: Math.max(completionTokens, evaluated),
  };
}

async function grammarFor(model: LlamaModel, plan: OutputPlan): Promise<LlamaGrammar | undefined> {
  const compile = async (schema: GbnfJsonSchema, param: string): Promise<LlamaGrammar> => {
    try {
      return await model.llama.createGrammarForJsonSchema<GbnfJsonSchema>(schema);
    } catch (err) {
      // grammar-schema.ts refuses what it knows llama.cpp cannot compile; anything else it refuses is still the schema's fault, not the node's.
      throw new FlotillaError("invalid_request", `the schema cannot be compiled into a grammar: ${err instanceof Error ? err.message : String(err)}`, { param, cause: err });
    }
  };
  switch (plan.kind) {
    case "text":
    case "may-call":
      return undefined;
    case "json":
      return plan.schema === undefined ? model.llama.getGrammarFor("json") : compile(plan.schema, "response_format.json_schema.schema");
    case "must-call":
      return plan.call.kind === "named" ? compile(plan.call.arguments, "tools") : compile(plan.call.schema, "tools");
  }
}

/** The model's own description of the functions, as a system turn of its template ahead of the conversation. */
function documentFunctions(chat: LlamaChat, history: ChatHistoryItem[], functions: Parameters<LlamaChat["chatWrapper"]["generateAvailableFunctionsSystemText"]>[0]): void {
  const text = chat.chatWrapper.generateAvailableFunctionsSystemText(functions, { documentParams: true });
  history.unshift({ type: "system", text: text.toJSON() });
}

function mustCallResult(call: MustCall, text: string, calls: CallStream): ToolCall[] {
  if (call.kind === "named") return text === "" ? [] : [calls.finish(0, call.name, text)];
  // The grammar makes this parse unless max_tokens or the context cut it short; then there is no call to report.
  try {
    const made = JSON.parse(text) as { name: string; arguments: unknown };
    return [calls.finish(0, made.name, JSON.stringify(made.arguments))];
  } catch {
    return [];
  }
}

/**
 * Streams the calls as OpenAI does: the first piece of each call carries
 * its id and name, later pieces only add to its arguments. A call whose
 * pieces were never streamed (one read when complete) is sent whole.
 */
class CallStream {
  readonly #onChunk: ((chunk: Chunk) => void) | undefined;
  readonly #ids = new Map<number, string>();
  readonly #sent = new Map<number, string>();

  constructor(onChunk: ((chunk: Chunk) => void) | undefined) {
    this.#onChunk = onChunk;
  }

  add(index: number, name: string, argumentsDelta: string): void {
    const id = this.#ids.get(index);
    if (id === undefined) {
      const fresh = newCallId();
      this.#ids.set(index, fresh);
      this.#onChunk?.({ type: "tool_call", index, id: fresh, name, argumentsDelta });
    } else {
      this.#onChunk?.({ type: "tool_call", index, argumentsDelta });
    }
    this.#sent.set(index, (this.#sent.get(index) ?? "") + argumentsDelta);
  }

  /**
   * The call as made. Its arguments are what was streamed, when anything
   * was (node-llama-cpp's raw pieces, which together parse as the
   * arguments), so a streaming client and a waiting one get the same text;
   * a call not streamed is sent whole now.
   */
  finish(index: number, name: string, args: string): ToolCall {
    const sent = this.#sent.get(index) ?? "";
    if (sent === "") this.add(index, name, args);
    const id = this.#ids.get(index);
    if (id === undefined) throw new Error(`tool call ${index} has no id after it was sent`);
    return { id, name, arguments: sent === "" ? args : sent };
  }
}

function newCallId(): string {
  return `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
}

/** node-llama-cpp's words when the prompt (with the functions' description) cannot fit: a 400, not a crash. */
function contextOverflow(err: unknown, contextSize: number): FlotillaError | undefined {
  if (!(err instanceof Error) || !/fits the context size|context size is too small|compress chat history/i.test(err.message)) return undefined;
  return new FlotillaError(
    "context_length_exceeded",
    `this model's context holds ${contextSize} tokens, which the prompt with its tools' descriptions does not fit in`,
    { param: "messages" },
  );
}
