// OpenAI's audio API (issue 18, docs/adr/0039): POST /v1/audio/speech and
// POST /v1/audio/transcriptions. Each request becomes a speech or a
// transcription workload and goes the way every workload goes: the router
// picks a node whose model advertises `tts` or `stt`, the dispatcher runs it
// there with its retries and busy queue. OpenAI's own model names (tts-1,
// whisper-1, …) mean "any engine that can", since clients send them by default.
import multipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  AUDIO_CONTENT_TYPES,
  FlotillaError,
  MAX_TRANSCRIPTION_BYTES,
  OPENAI_SPEECH_MODELS,
  OPENAI_TRANSCRIPTION_MODELS,
  speechCreateRequest,
  speechResultOf,
  transcriptionFields,
  transcriptionResultOf,
  type Workload,
} from "@flotilla/protocol";
import type { GenerationDispatcher, DispatchResult } from "../../dispatch/types.ts";
import { parseBody } from "../validate.ts";
import { rejectOtherMethods } from "../method-not-allowed.ts";
import { dispatchHints, routeHeaders, routeHints } from "../route-hints.ts";
import { isMultipartRequest, multipartError, requireUploadLength } from "../multipart-uploads.ts";
import { renderTranscript } from "./transcript-formats.ts";

export interface AudioRoutesOptions {
  dispatcher: GenerationDispatcher;
}

/** How much audio one server-sent event carries: about 0.7 s of 24 kHz pcm. */
const SSE_CHUNK_BYTES = 32 * 1024;

export function registerAudioRoutes(app: FastifyInstance, options: AudioRoutesOptions): void {
  app.post("/v1/audio/speech", async (request, reply) => {
    const body = parseBody(speechCreateRequest, request.body);
    const workload: Workload = {
      model: OPENAI_SPEECH_MODELS.includes(body.model) ? "auto" : body.model,
      input: { kind: "speech", text: body.input, voice: body.voice, format: body.response_format, speed: body.speed },
    };
    const answer = await run(options.dispatcher, workload, request, reply);
    if (answer === null) return reply;
    const speech = speechResultOf(answer.result);
    void reply.headers(routeHeaders(answer.decision));
    const audio = Buffer.from(speech.audioBase64, "base64");
    if (body.stream_format === "audio") return reply.type(AUDIO_CONTENT_TYPES[speech.format]).send(audio);
    // The sse form, as OpenAI streams it: audio deltas, then done with usage.
    const events: string[] = [];
    for (let at = 0; at < audio.length; at += SSE_CHUNK_BYTES) {
      events.push(`data: ${JSON.stringify({ type: "speech.audio.delta", audio: audio.subarray(at, at + SSE_CHUNK_BYTES).toString("base64") })}\n\n`);
    }
    const characters = [...body.input].length;
    events.push(`data: ${JSON.stringify({ type: "speech.audio.done", usage: { input_tokens: characters, output_tokens: 0, total_tokens: characters } })}\n\n`);
    return reply.type("text/event-stream; charset=utf-8").header("cache-control", "no-cache").send(events.join(""));
  });

  void app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: MAX_TRANSCRIPTION_BYTES + 1, files: 1, fields: 10, parts: 12, fieldSize: 4096, headerPairs: 200 },
      throwFileSizeLimit: false,
    });
    requireUploadLength(scope);
    scope.post("/v1/audio/transcriptions", async (request, reply) => {
      const { file, fields } = await readUpload(request, reply);
      const parsed = parseBody(transcriptionFields, fields);
      const granularities = [parsed["timestamp_granularities[]"] ?? []].flat();
      if (granularities.length > 0 && parsed.response_format !== "verbose_json") {
        throw new FlotillaError("invalid_request", "timestamp_granularities[] needs response_format verbose_json", { param: "timestamp_granularities[]" });
      }
      const workload: Workload = {
        model: OPENAI_TRANSCRIPTION_MODELS.includes(parsed.model) ? "auto" : parsed.model,
        input: { kind: "transcription", audioBase64: file.toString("base64"), ...(parsed.language === undefined ? {} : { language: parsed.language }) },
      };
      const answer = await run(options.dispatcher, workload, request, reply);
      if (answer === null) return reply;
      void reply.headers(routeHeaders(answer.decision));
      const rendered = renderTranscript(transcriptionResultOf(answer.result), parsed.response_format, granularities);
      return reply.type(rendered.contentType).send(rendered.body);
    });
    rejectOtherMethods(scope, "/v1/audio/transcriptions", ["POST"]);
  });
  rejectOtherMethods(app, "/v1/audio/speech", ["POST"]);
}

/** The dispatched answer; null when the client hung up (the work was cancelled on its node). */
async function run(dispatcher: GenerationDispatcher, workload: Workload, request: FastifyRequest, reply: FastifyReply): Promise<DispatchResult | null> {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
  });
  try {
    return await dispatcher.run({ workload, hints: routeHints({}, request.headers), ...dispatchHints({}, request.headers, false), signal: controller.signal });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    void reply.hijack();
    return null;
  }
}

/** The upload's file (at most MAX_TRANSCRIPTION_BYTES) and its text fields. */
async function readUpload(request: FastifyRequest, reply: FastifyReply): Promise<{ file: Buffer; fields: Record<string, string | string[]> }> {
  if (!isMultipartRequest(request)) {
    throw new FlotillaError("unsupported_media_type", "upload the audio as multipart/form-data, with the fields `file` and `model`");
  }
  let file: Buffer | undefined;
  const fields: Record<string, string | string[]> = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === "file") {
        if (part.fieldname !== "file") throw new FlotillaError("invalid_request", `${part.fieldname}: the audio goes in the field \`file\``, { param: part.fieldname });
        file = await part.toBuffer();
        if (part.file.truncated || file.length > MAX_TRANSCRIPTION_BYTES) {
          throw new FlotillaError("payload_too_large", `file: at most ${MAX_TRANSCRIPTION_BYTES / (1024 * 1024)} MiB of audio a request`, { param: "file" });
        }
      } else {
        const value = String(part.value);
        const before = fields[part.fieldname];
        // Repeated fields (timestamp_granularities[]) gather into a list.
        fields[part.fieldname] = before === undefined ? value : [before, value].flat();
      }
    }
  } catch (err) {
    void reply.header("connection", "close");
    throw multipartError(err, "`model`, `language`, `prompt`, `response_format`, `temperature`, `timestamp_granularities[]`");
  }
  if (file === undefined || file.length === 0) throw new FlotillaError("invalid_request", "file: an audio file is required", { param: "file" });
  return { file, fields };
}
