// How a job reads in `jobs list`, `show` and `watch`: every shape the
// protocol allows, and remote text that tries to drive the terminal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobObject, type JobObject } from "@flotilla/protocol";
import { age, answerText, bar, details, listRow, status, terminalJson, watchLine } from "./job-display.ts";

function job(fields: Partial<JobObject> = {}): JobObject {
  return jobObject.parse({
    id: "job_1",
    object: "job",
    kind: "chat",
    pool: "brain",
    priority: "normal",
    state: "queued",
    position: 2,
    eta_s: 12,
    waiting_reason: null,
    attempts: 0,
    max_attempts: 3,
    nodes: [],
    progress: null,
    created_at: 1_000,
    updated_at: 1_000,
    result_url: null,
    error: null,
    parent_id: null,
    ...fields,
  });
}

test("a list row: progress and position as a dash when there are none, attempts of the most, age from created", () => {
  assert.deepEqual(listRow(job(), 1_150), ["job_1", "chat", "brain", "queued", "-", "2", "0/3", "2m"]);
  const running = job({ state: "running", position: null, attempts: 1, progress: { fraction: 0.426, message: "" } });
  assert.deepEqual(listRow(running, 1_000 + 3 * 86_400), ["job_1", "chat", "brain", "running", "42%", "-", "1/3", "3d"]);
});

test("age: seconds, minutes, hours, days; a clock ahead of ours is no negative age", () => {
  assert.deepEqual([age(0), age(59.9), age(60), age(3_599), age(3_600), age(86_399), age(86_400), age(-5)], ["0s", "59s", "1m", "59m", "1h", "23h", "1d", "0s"]);
});

test("status says where a job is: its place and eta, why it waits, its attempt and message, how it ended", () => {
  assert.equal(status(job()), "queued (position 2, eta 12s)");
  assert.equal(status(job({ position: null, eta_s: null, waiting_reason: "no node runs image jobs yet" })), "queued: no node runs image jobs yet");
  assert.equal(status(job({ state: "running", attempts: 2, progress: { fraction: 0.5, message: "chunk 5 of 10" } })), "running (attempt 2/3): chunk 5 of 10");
  assert.equal(status(job({ state: "leased", attempts: 1 })), "leased");
  assert.equal(status(job({ state: "dead", error: { message: "the lease expired", retryable: true } })), "dead: the lease expired");
  assert.equal(status(job({ state: "cancelled" })), "cancelled");
});

test("the bar: filled by progress, full once succeeded, empty when nothing was reported", () => {
  assert.equal(bar(job(), 10), "[          ]");
  assert.equal(bar(job({ state: "running", progress: { fraction: 0.5, message: "" } }), 10), "[#####     ]");
  assert.equal(bar(job({ state: "succeeded", progress: { fraction: 0.2, message: "" } }), 10), "[##########]");
  assert.match(watchLine(job({ state: "succeeded" })), /^job_1 \[#+\] 100% succeeded$/);
});

test("remote text in a watch line or the details is shown, not obeyed", () => {
  const hostile = job({ state: "running", progress: { fraction: 0.1, message: "\x1b[2Jgone\u202e" } });
  assert.doesNotMatch(watchLine(hostile), /\x1b|\u202e/);
  assert.match(watchLine(hostile), /\\x1b\[2Jgone\\u202e/);
  const shown = details(job({ nodes: ["n\x9b1"] }), 1_000);
  assert.doesNotMatch(shown, /\x9b/);
  assert.match(shown, /^nodes +n\\x9b1$/m);
  assert.match(shown, /^created +1970-01-01T00:16:40\.000Z \(0s ago\)$/m);
});

test("a text job's answer as text; anything else is left to JSON", () => {
  assert.equal(answerText({ choices: [{ message: { role: "assistant", content: "Once upon" } }] }), "Once upon");
  assert.equal(answerText({ choices: [{ text: "a time" }] }), "a time");
  assert.equal(answerText({ data: [{ embedding: [0.1] }] }), null);
  assert.equal(answerText({ choices: [] }), null);
  assert.equal(answerText("plain"), null);
});

test("terminalJson escapes what JSON.stringify leaves raw, and is still the same JSON", () => {
  const value = { text: "a\x9b2J\u2028b\u202e\x7f", n: 1 };
  const text = terminalJson(value);
  assert.doesNotMatch(text, /[\x7f-\x9f\u2028\u202e]/);
  assert.deepEqual(JSON.parse(text), value);
});
