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

type Serve = (workload: Workload, signal: AbortSignal) => Promise<WorkloadResult> | null;

class SpeechBackend implements InferenceBackend {
  /** The most characters one request may have: what a speech model's "context" is. */
  readonly contextSize = MAX_SPEECH_CHARS;
  readonly modelId: string;
  readonly capabilities: readonly Capability[];
  readonly parallelSequences: number;
  /** The engine's answer, or null for a workload of another kind. */
  readonly #serve: Serve;

  constructor(modelId: string, capability: Capability, parallel: number, serve: Serve) {
    this.modelId = modelId;
    this.capabilities = [capability];
    this.parallelSequences = parallel;
    this.#serve = serve;
  }

  async run(workload: Workload, options: RunOptions): Promise<WorkloadResult> {
    const served = this.#serve(workload, options.signal);
    if (served === null) {
      throw new FlotillaError("model_not_capable", `"${this.modelId}" is a speech engine and does not serve ${workload.input.kind}`, { param: "model" });
    }
    return served;
  }

  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

export function ttsBackend(engine: TtsEngine, parallel = DEFAULT_PARALLEL): InferenceBackend {
  return new SpeechBackend(engine.id, "tts", parallel, (workload, signal) => {
    if (workload.input.kind !== "speech") return null;
    const { text, voice, speed, format } = workload.input;
    return engine.synthesize({ text, voice, speed, format }, signal).then((made) => ({
      kind: "speech",
      format: made.format,
      audioBase64: made.audio.toString("base64"),
      sampleRate: made.sampleRate,
      durationS: made.durationS,
    }));
  });
}

export function sttBackend(engine: SttEngine, parallel = DEFAULT_PARALLEL): InferenceBackend {
  return new SpeechBackend(engine.id, "stt", parallel, (workload, signal) => {
    if (workload.input.kind !== "transcription") return null;
    const { audioBase64, language } = workload.input;
    const audio = Buffer.from(audioBase64, "base64");
    return engine.transcribe({ audio, ...(language === undefined ? {} : { language }) }, signal).then((transcript) => ({ kind: "transcription", ...transcript }));
  });
}
