// The TTS conformance suite against the real espeak-ng, and the mapping of
// OpenAI's request fields onto espeak's options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OPENAI_VOICES } from "@flotilla/protocol";
import { ESPEAK_VOICES, EspeakNgEngine, wordsPerMinute } from "./espeak-ng-engine.ts";
import { ttsConformance } from "./speech-engine-conformance.ts";

ttsConformance(() => new EspeakNgEngine());

test("OpenAI's voices map to distinct espeak voices", () => {
  const mapped = OPENAI_VOICES.map((v) => ESPEAK_VOICES.get(v));
  assert.ok(mapped.every((v) => v !== undefined));
  assert.equal(new Set(mapped).size, OPENAI_VOICES.length);
});

test("speed multiplies espeak's 175 words a minute, within its 80 to 450", () => {
  assert.deepEqual([1, 2, 0.5, 0.25, 4].map(wordsPerMinute), [175, 350, 88, 80, 450]);
  assert.throws(() => wordsPerMinute(Number.NaN), { param: "speed" });
});

test("a text with nothing to say is an empty file, not an error", async () => {
  for (const text of ["", " ", "."]) {
    const made = await new EspeakNgEngine().synthesize({ text, voice: "alloy", speed: 1, format: "wav" }, new AbortController().signal);
    assert.ok(made.durationS < 0.1, `${made.durationS} s for ${JSON.stringify(text)}`);
    assert.equal(made.audio.toString("latin1", 0, 4), "RIFF");
  }
});

test("aac is refused before anything is spoken, naming response_format", async () => {
  const speaking = new EspeakNgEngine().synthesize({ text: "Hi.", voice: "alloy", speed: 1, format: "aac" }, new AbortController().signal);
  await assert.rejects(speaking, { code: "invalid_request", param: "response_format" });
});
