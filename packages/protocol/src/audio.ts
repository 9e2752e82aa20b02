// Audio as OpenAI's audio API names it (issue 18): the formats speech is
// asked in, and the voices its clients send. Which of them a node can write
// is its engine's to say (agents: speech/speech-engine.ts).
export const AUDIO_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** The content type each format is sent with. pcm: raw 16-bit little-endian mono samples (audio/L16 would say big-endian). */
export const AUDIO_CONTENT_TYPES: Readonly<Record<AudioFormat, string>> = {
  mp3: "audio/mpeg",
  opus: "audio/ogg; codecs=opus",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm",
};

/** OpenAI's voices: every TTS engine takes these, mapped to voices of its own. */
export const OPENAI_VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"] as const;

/** ISO-639-1 codes and the names OpenAI's verbose_json writes for them ("english"). */
export const LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  en: "english",
  de: "german",
  fr: "french",
  es: "spanish",
  it: "italian",
  nl: "dutch",
  pt: "portuguese",
};

/** The sample rate of `pcm` output, as OpenAI sends it. */
export const PCM_SAMPLE_RATE = 24_000;
