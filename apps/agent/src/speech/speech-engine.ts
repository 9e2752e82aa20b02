// The speech engines a node runs in-process (issue 18): text to speech and
// speech to text, each behind one interface with one conformance suite
// (speech-engine-conformance.ts), so a better engine replaces espeak-ng or
// pocketsphinx without touching what calls it. speech-backend.ts makes an
// engine an InferenceBackend the agent serves like a model. An engine runs a
// fixed program with fixed arguments (never a shell, never a client's text
// as an argument): a node runs only what its own configuration lists.
import type { AudioFormat } from "@flotilla/protocol";

export interface SynthesisRequest {
  /** At most 4,096 characters, OpenAI's bound; checked before it gets here. */
  text: string;
  /** One of the engine's `voices`. */
  voice: string;
  /** 0.25 to 4: 1 is the engine's normal rate. */
  speed: number;
  format: AudioFormat;
}

export interface Synthesis {
  /** The whole file in `format` (pcm: raw 16-bit little-endian mono at `sampleRate`). */
  audio: Buffer;
  format: AudioFormat;
  sampleRate: number;
  durationS: number;
}

export interface TtsEngine {
  /** The model id the node advertises for it ("espeak-ng"). */
  readonly id: string;
  /** Voices it takes, OpenAI's names first (alloy, echo, …), mapped to its own. */
  readonly voices: readonly string[];
  /** The formats it can write. */
  readonly formats: readonly AudioFormat[];
  /** Throws a FlotillaError (invalid_request, naming the param) for a request it cannot do; aborting stops the program. */
  synthesize(request: SynthesisRequest, signal: AbortSignal): Promise<Synthesis>;
}

export interface TranscriptSegment {
  startS: number;
  endS: number;
  text: string;
}

export interface TranscriptWord {
  startS: number;
  endS: number;
  word: string;
}

export interface Transcript {
  text: string;
  /** ISO-639-1, "en". */
  language: string;
  durationS: number;
  segments: TranscriptSegment[];
  words: TranscriptWord[];
}

export interface TranscriptionRequest {
  /** An audio file as uploaded: wav, flac, mp3 or ogg, any rate and channels. */
  audio: Buffer;
  /** ISO-639-1; undefined: the engine's own. */
  language?: string;
}

export interface SttEngine {
  /** The model id the node advertises for it ("pocketsphinx-en-us"). */
  readonly id: string;
  /** ISO-639-1 codes it transcribes. */
  readonly languages: readonly string[];
  /** Throws a FlotillaError (invalid_request, param `file`) for audio it cannot read; aborting stops the program. */
  transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<Transcript>;
}
