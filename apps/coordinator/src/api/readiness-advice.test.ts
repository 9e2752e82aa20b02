import { test } from "node:test";
import assert from "node:assert/strict";
import { readinessAdvice } from "./readiness-advice.ts";

test("`flotilla up` without a model is told to restart with --model", () => {
  assert.match(readinessAdvice([{ kind: "local", models: 0 }]), /flotilla up --model/);
});

test("a coordinator alone with no node is told how machines join, never to run `flotilla up`", () => {
  const advice = readinessAdvice([]);
  assert.match(advice, /no node has joined/);
  assert.match(advice, /flotilla agent --join URL --token-file FILE/);
  assert.match(advice, /flotilla token create/);
  assert.match(advice, /flotilla cluster add URL/);
  assert.doesNotMatch(advice, /flotilla up/);
});

test("a cluster whose nodes serve nothing now is pointed at its status", () => {
  assert.match(readinessAdvice([{ kind: "openai", models: 0 }]), /^the cluster's only node serves no model .*flotilla cluster status/);
  assert.match(readinessAdvice([{ kind: "agent", models: 1 }, { kind: "ollama", models: 0 }]), /^none of the cluster's 2 nodes serves a model .*flotilla cluster status/);
  // `up` whose own node has a model that is not ready is not told to load one.
  assert.doesNotMatch(readinessAdvice([{ kind: "local", models: 1 }]), /--model/);
});
