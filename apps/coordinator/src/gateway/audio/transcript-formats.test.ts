import { test } from "node:test";
import assert from "node:assert/strict";
import type { TranscriptionResult } from "@flotilla/protocol";
import { renderTranscript, timestamp } from "./transcript-formats.ts";

const result: TranscriptionResult = {
  text: "how are you",
  language: "en",
  durationS: 1.7,
  segments: [{ startS: 0.12, endS: 1.5, text: "how are you" }],
  words: [
    { startS: 0.12, endS: 0.4, word: "how" },
    { startS: 0.4, endS: 0.7, word: "are" },
    { startS: 0.7, endS: 1.5, word: "you" },
  ],
};

test("json and text carry the text; json its billed duration", () => {
  assert.deepEqual(renderTranscript(result, "json", []).body, { text: "how are you", usage: { type: "duration", seconds: 2 } });
  assert.deepEqual(renderTranscript(result, "text", []), { contentType: "text/plain; charset=utf-8", body: "how are you\n" });
});

test("verbose_json has segments by default and words when asked, in OpenAI's names", () => {
  const plain = renderTranscript(result, "verbose_json", []).body as Record<string, unknown>;
  assert.equal(plain.language, "english");
  assert.equal(plain.duration, 1.7);
  assert.equal((plain.segments as unknown[]).length, 1);
  assert.equal(plain.words, undefined);
  const words = renderTranscript(result, "verbose_json", ["word"]).body as Record<string, unknown>;
  assert.deepEqual(words.words, [{ word: "how", start: 0.12, end: 0.4 }, { word: "are", start: 0.4, end: 0.7 }, { word: "you", start: 0.7, end: 1.5 }]);
  assert.equal(words.segments, undefined);
});

test("srt and vtt cues are numbered and timed as players read them", () => {
  assert.equal(renderTranscript(result, "srt", []).body, "1\n00:00:00,120 --> 00:00:01,500\nhow are you\n");
  assert.equal(renderTranscript(result, "vtt", []).body, "WEBVTT\n\n00:00:00.120 --> 00:00:01.500\nhow are you\n");
  assert.equal(timestamp(3723.0456, ","), "01:02:03,046");
});
