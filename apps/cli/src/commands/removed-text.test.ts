import { test } from "node:test";
import assert from "node:assert/strict";
import { removedText } from "./cluster.ts";

test("`cluster remove` speaks of join tokens only for an agent", () => {
  assert.match(removedText("desk", "agent", "http://10.0.0.2:8081"), /join token/);
  assert.equal(removedText("box", "ollama", "http://10.0.0.9:11434"), "box removed (an agentless server: `flotilla cluster add http://10.0.0.9:11434 --kind ollama` adds it again)");
  assert.doesNotMatch(removedText("box", "openai", null), /join token/);
  assert.doesNotMatch(removedText("me", "local", null), /join token/);
});
