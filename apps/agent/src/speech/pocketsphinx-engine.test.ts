// The STT conformance suite against the real pocketsphinx, spoken to by the
// real espeak-ng; and the reading of pocketsphinx's output, on output it printed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EspeakNgEngine } from "./espeak-ng-engine.ts";
import { parsePocketsphinx, PocketsphinxEngine } from "./pocketsphinx-engine.ts";
import { sttConformance } from "./speech-engine-conformance.ts";

const speaker = new EspeakNgEngine();
sttConformance(
  () => new PocketsphinxEngine(),
  async (text) => (await speaker.synthesize({ text, voice: "alloy", speed: 1, format: "wav" }, new AbortController().signal)).audio,
);

// Printed for espeak's "hello world", three seconds' silence, "open the door".
const TWO_UTTERANCES = `well
<s> 0.000 0.290 0.999300
well 0.300 0.650 0.999800
<sil> 0.660 0.880 0.999800
</s> 0.890 1.210 1.000000
the little please
<s> 3.910 4.240 0.999700
the(2) 4.250 4.440 0.130807
little 4.450 4.560 0.138272
please 4.570 4.840 0.157897
[NOISE] 4.850 4.900 0.100000
</s> 4.850 5.120 1.000000
`;

test("each utterance is a segment; markers, silence and noise are not words", () => {
  const { segments, words } = parsePocketsphinx(TWO_UTTERANCES, 5.134);
  assert.deepEqual(segments, [
    { startS: 0.3, endS: 0.65, text: "well" },
    { startS: 4.25, endS: 4.84, text: "the little please" },
  ]);
  assert.deepEqual(words.map((w) => w.word), ["well", "the", "little", "please"]);
});

test("times are clamped to the audio's duration", () => {
  const { words } = parsePocketsphinx("hi\nhi 0.100 0.900 0.5\n", 0.5);
  assert.deepEqual(words, [{ startS: 0.1, endS: 0.5, word: "hi" }]);
});

test("silence prints an empty hypothesis and only markers: no segment, no word", () => {
  assert.deepEqual(parsePocketsphinx("\n<s> 0.000 0.760 1.000000\n</s> 0.770 0.980 1.000000\n", 1), { segments: [], words: [] });
  assert.deepEqual(parsePocketsphinx("", 0), { segments: [], words: [] });
});

test("a language given in capitals is the same language", async () => {
  const engine = new PocketsphinxEngine();
  const silence = Buffer.concat([Buffer.from("RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00", "latin1")]);
  assert.equal((await engine.transcribe({ audio: silence, language: "EN" }, new AbortController().signal)).language, "en");
});
