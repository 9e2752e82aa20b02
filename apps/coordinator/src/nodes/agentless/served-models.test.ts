import { test } from "node:test";
import assert from "node:assert/strict";
import { selectServedModels } from "./served-models.ts";

const reported = [{ id: "qwen2.5:7b" }, { id: "llama3:latest" }, { id: "phi3", contextSize: 8192 }];

test("declaring nothing serves everything the server reports", () => {
  assert.deepEqual(selectServedModels("openai", [], reported), { models: reported, missing: [] });
});

test("declared models filter the reported ones; missing ones are named", () => {
  assert.deepEqual(selectServedModels("openai", ["phi3", "mistral"], reported), {
    models: [{ id: "phi3", contextSize: 8192 }],
    missing: ["mistral"],
  });
});

test("Ollama's bare name matches its :latest tag and keeps the declared spelling", () => {
  assert.deepEqual(selectServedModels("ollama", ["llama3"], reported).models, [{ id: "llama3" }]);
  assert.deepEqual(selectServedModels("openai", ["llama3"], reported).missing, ["llama3"], "only Ollama has that rule");
  assert.deepEqual(selectServedModels("ollama", ["qwen2.5"], reported).missing, ["qwen2.5"], "another tag is another model");
});
