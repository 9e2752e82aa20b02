import { test } from "node:test";
import assert from "node:assert/strict";
import { StopMatcher } from "./stop-matcher.ts";

const run = (stops: string[], pieces: string[]) => {
  const m = new StopMatcher(stops);
  const sent = pieces.map((p) => m.push(p));
  sent.push(m.flush());
  return { text: sent.join(""), sent, stopped: m.stopped };
};

test("without stop sequences every piece passes straight through", () => {
  assert.deepEqual(run([], ["a", "b"]).sent, ["a", "b", ""]);
});

test("the text ends before the stop sequence, keeping the space before it", () => {
  assert.deepEqual(run(["garden"], ["in the", " garden", " today"]), {
    text: "in the ",
    sent: ["in the", " ", "", ""],
    stopped: true,
  });
});

test("a stop sequence split over pieces is found, and its start was never sent", () => {
  const r = run(["END"], ["abc E", "N", "D more"]);
  assert.equal(r.text, "abc ");
  assert.deepEqual(r.sent, ["abc ", "", "", ""]);
});

test("held-back text that turns out not to be a stop is sent later, in order", () => {
  const r = run(["END"], ["abc E", "Nx", " tail"]);
  assert.equal(r.text, "abc ENx tail");
  assert.equal(r.stopped, false);
});

test("the earliest of several stop sequences wins", () => {
  assert.equal(run(["b", "a"], ["xxab"]).text, "xx");
});

test("held text is flushed when generation ends without a stop", () => {
  assert.deepEqual(run(["STOP"], ["go ST"]), { text: "go ST", sent: ["go ", "ST"], stopped: false });
});
