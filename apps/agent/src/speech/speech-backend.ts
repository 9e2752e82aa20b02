// A speech engine served as a model: the agent admits its requests through a
// SlotPool like any backend's and advertises it with its capability (`tts`
// or `stt`), so the router sends it speech and nothing else. The audio
// travels whole, base64, in the result: a speech file is small next to the
// agent's body limit, and a transcription's upload is bounded
// (MAX_TRANSCRIPTION_BYTES).
import {
  FlotillaError,
  MAX_SPEECH_CHARS,
  type Capability,
  type RunOptions,
  type Workload,
  type WorkloadResult,
} from "@flotilla/protocol";
import type { InferenceBackend } from "../backends/backend.ts";
import type { SttEngine, TtsEngine } from "./speech-engine.ts";

/** Speech engines are programs on the CPU: two at once keep a small machine responsive. */
const DEFAULT_PARALLEL = 2;

export class TtsBackend implements InferenceBackend {
  readonly modelId: string;
  /** The most characters one request may have: what a speech model's "context" is. */
  readonly contextSize = MAX_SPEECH_CHARS;
  readonly parallelSequences: number;
  readonly capabilities: readonly Capability[] = ["tts"];
  readonly #engine: TtsEngine;

  constructor(engine: TtsEngine, parallel = DEFAULT_PARALLEL) {
    this.#engine = engine;
    this.modelId = engine.id;
    this.parallelSequences = parallel;
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    if (workload.input.kind !== "speech") throw notCapable(this.modelId, workload);
    const { text, voice, speed, format } = workload.input;
    const made = await this.#engine.synthesize({ text, voice, speed, format }, options.signal);
    return { kind: "speech", format: made.format, audioBase64: made.audio.toString("base64"), sampleRate: made.sampleRate, durationS: made.durationS };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

export class SttBackend implements InferenceBackend {
  readonly modelId: string;
  readonly contextSize = MAX_SPEECH_CHARS;
  readonly parallelSequences: number;
  readonly capabilities: readonly Capability[] = ["stt"];
  readonly #engine: SttEngine;

  constructor(engine: SttEngine, parallel = DEFAULT_PARALLEL) {
    this.#engine = engine;
    this.modelId = engine.id;
    this.parallelSequences = parallel;
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    if (workload.input.kind !== "transcription") throw notCapable(this.modelId, workload);
    const { audioBase64, language } = workload.input;
    const transcript = await this.#engine.transcribe({ audio: Buffer.from(audioBase64, "base64"), ...(language === undefined ? {} : { language }) }, options.signal);
    return { kind: "transcription", ...transcript };
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

function notCapable(modelId: string, workload: Workload): FlotillaError {
  return new FlotillaError("model_not_capable", `"${modelId}" is a speech engine and does not serve ${workload.input.kind}`, { param: "model" });
}
