// Ollama's request bodies, as its clients send them. Objects are not strict:
// Ollama itself ignores fields it does not know (clients send `think`,
// `logprobs`, newer options), so flotilla does too, and validates every field
// it reads. Options Ollama has and flotilla's nodes cannot honour (mirostat,
// num_gpu, …) are accepted and ignored, as Ollama ignores options a runner
// does not use; docs/adr/0032 lists what each one does here.
import { z } from "zod";
import { FUNCTION_NAME, jsonSchema } from "@flotilla/protocol";

const model = z.string().min(1).max(256);

/**
 * How long to keep the model loaded: seconds, or a Go duration ("5m",
 * "1h30m", "-1"). Validated and then ignored: flotilla's models are pinned
 * by node configuration (docs/adr/0032).
 */
const GO_DURATION = /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^-?\d+(\.\d+)?$/;
const keepAlive = z.union([z.number(), z.string().max(64).regex(GO_DURATION, 'a duration such as "5m", "1h" or "-1"')]).nullish();

export const ollamaOptions = z
  .object({
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    /** 0 is Ollama's "no top-k". */
    top_k: z.int().min(0).max(100_000).nullish(),
    seed: z.int().nullish(),
    /** -1: until the model stops; -2: until the context is full. Both: the node's own bound. */
    num_predict: z.int().min(-2).nullish(),
    stop: z.array(z.string().max(256)).max(4, "at most 4 stop sequences").nullish(),
    /** The context a request wants; the node's is fixed at load (docs/adr/0032). */
    num_ctx: z.int().min(1).nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
  })
  .loose();
export type OllamaOptions = z.infer<typeof ollamaOptions>;

/** `"json"`, a JSON Schema, or `""`/null for free text. */
const format = z.union([z.literal("json"), z.literal(""), jsonSchema]).nullish();

const functionName = z.string().regex(FUNCTION_NAME, "a function name has 1-64 letters, digits, '_' or '-'");

/** A call as Ollama carries it: arguments as an object, not JSON text. */
const toolCall = z
  .object({
    id: z.string().min(1).max(256).optional(),
    function: z.object({ index: z.int().min(0).optional(), name: functionName, arguments: z.record(z.string(), z.unknown()) }).loose(),
  })
  .loose();

const images = z.array(z.string()).max(0, "images are not supported: flotilla's nodes serve text models").nullish();

export const ollamaMessage = z
  .object({
    role: z.enum(["system", "user", "assistant", "tool"]),
    content: z.string().nullish(),
    images,
    tool_calls: z.array(toolCall).max(128).nullish(),
    /** Which function a tool message answers (Ollama's newer field). */
    tool_name: z.string().max(64).nullish(),
  })
  .loose();
export type OllamaMessage = z.infer<typeof ollamaMessage>;

const tool = z
  .object({
    type: z.literal("function").optional(),
    function: z.object({ name: functionName, description: z.string().max(8192).nullish(), parameters: jsonSchema.nullish() }).loose(),
  })
  .loose();

export const ollamaChatRequest = z
  .object({
    model,
    /** Empty: Ollama's way to load (or, with keep_alive 0, unload) a model. */
    messages: z.array(ollamaMessage).max(100_000).nullish(),
    stream: z.boolean().nullish(),
    format,
    options: ollamaOptions.nullish(),
    tools: z.array(tool).max(128).nullish(),
    keep_alive: keepAlive,
  })
  .loose();
export type OllamaChatRequest = z.infer<typeof ollamaChatRequest>;

const unsupported = (what: string) => z.string().max(0, `${what} is not supported`).nullish();

export const ollamaGenerateRequest = z
  .object({
    model,
    /** Empty: load (or, with keep_alive 0, unload) the model. */
    prompt: z.string().nullish(),
    system: z.string().nullish(),
    /** True: the prompt goes to the model as it is, without the chat template. */
    raw: z.boolean().nullish(),
    stream: z.boolean().nullish(),
    format,
    options: ollamaOptions.nullish(),
    keep_alive: keepAlive,
    images,
    suffix: unsupported("suffix (fill-in-the-middle)"),
    template: unsupported("a template override; the model's own template is used, or send raw: true"),
    /** The token context an older generate answer returned: flotilla returns none, so none can come back. */
    context: z.array(z.int()).max(0, "context is not supported: send the conversation to /api/chat").nullish(),
  })
  .loose();
export type OllamaGenerateRequest = z.infer<typeof ollamaGenerateRequest>;

export const ollamaEmbedRequest = z
  .object({
    model,
    input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
    /** Ollama truncates over-long inputs by default; flotilla's nodes refuse them (400). */
    truncate: z.boolean().nullish(),
    dimensions: z.int().min(1).max(65_536).nullish(),
    options: ollamaOptions.nullish(),
    keep_alive: keepAlive,
  })
  .loose();
export type OllamaEmbedRequest = z.infer<typeof ollamaEmbedRequest>;

/** The older single-text embeddings route. */
export const ollamaEmbeddingsRequest = z
  .object({ model, prompt: z.string(), options: ollamaOptions.nullish(), keep_alive: keepAlive })
  .loose();
export type OllamaEmbeddingsRequest = z.infer<typeof ollamaEmbeddingsRequest>;

/** `model`, or the older `name`. */
export const ollamaShowRequest = z
  .object({ model: model.optional(), name: model.optional(), verbose: z.boolean().nullish() })
  .loose()
  .refine((body) => body.model !== undefined || body.name !== undefined, { message: "model is required", path: ["model"] });
export type OllamaShowRequest = z.infer<typeof ollamaShowRequest>;
