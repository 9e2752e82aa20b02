// The details Ollama's clients show, read from the real test model's GGUF
// header (node-llama-cpp's parser, no weights loaded) and the file itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { readGgufFileInfo } from "node-llama-cpp";
import { modelDetails, modelInfo } from "@flotilla/protocol";
import { testModelPath, TEST_MODEL_SHA256 } from "@flotilla/testkit";
import { humanParameterCount, ModelFacts, fileDigest } from "./model-details.ts";

test("parameter counts in Ollama's form", () => {
  assert.equal(humanParameterCount(999), "999");
  assert.equal(humanParameterCount(292_800), "293K");
  assert.equal(humanParameterCount(494_032_768), "494.03M");
  assert.equal(humanParameterCount(7_000_000_000), "7B");
  assert.equal(humanParameterCount(7_615_616_512), "7.6B");
});

test("the test model: llama, its weights counted, F32 from its tensors, its size, mtime and sha256", async () => {
  const file = await testModelPath();
  const facts = new ModelFacts(file, await readGgufFileInfo(file));
  const before = facts.details();
  assert.equal(before.digest, undefined, "the digest is absent until the hash is done");
  await facts.hashed;
  const details = modelDetails.parse(facts.details());
  const { size, mtimeMs } = await stat(file);
  assert.deepEqual(details, {
    format: "gguf",
    family: "llama",
    families: ["llama"],
    parameterSize: "293K",
    quantizationLevel: "F32",
    sizeBytes: size,
    digest: TEST_MODEL_SHA256,
    modifiedAtMs: Math.floor(mtimeMs),
  });
});

test("model info: flattened scalar metadata, vocabulary arrays as null, the context it runs with", async () => {
  const file = await testModelPath();
  const info = modelInfo.parse(new ModelFacts(file, await readGgufFileInfo(file)).info({ contextSize: 512, endOfText: "</s>" }));
  assert.equal(info.metadata["general.architecture"], "llama");
  assert.equal(info.metadata["llama.context_length"], 2048);
  assert.equal(info.metadata["llama.block_count"], 5);
  assert.equal(info.metadata["general.parameter_count"], 292_800);
  assert.equal(info.metadata["tokenizer.ggml.tokens"], null);
  assert.deepEqual(info.parameters, { num_ctx: 512, stop: "</s>" });
  assert.equal(info.template, undefined, "this model carries no chat template");
});

test("a file is hashed once per path, size and mtime; an unreadable one has no digest", async () => {
  const file = await testModelPath();
  const { size, mtimeMs } = await stat(file);
  assert.equal(fileDigest(file, size, mtimeMs), fileDigest(file, size, mtimeMs));
  assert.equal(await fileDigest("/no/such/model.gguf", 1, 1), undefined);
});
