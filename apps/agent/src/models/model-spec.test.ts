import { test } from "node:test";
import assert from "node:assert/strict";
import { parseModelSpec } from "./model-spec.ts";

test("a path gives a model named after its file", () => {
  assert.deepEqual(parseModelSpec("../models/stories260K.gguf"), {
    id: "stories260K",
    source: { kind: "file", path: "../models/stories260K.gguf" },
  });
});

test("NAME=PATH names the model", () => {
  assert.equal(parseModelSpec("tiny=/m/a.gguf").id, "tiny");
});

test("hf: references split into owner, repo, file and revision", () => {
  assert.deepEqual(parseModelSpec("hf:ggml-org/models/tinyllamas/stories260K.gguf").source, {
    kind: "hf",
    owner: "ggml-org",
    repo: "models",
    file: "tinyllamas/stories260K.gguf",
    revision: "main",
  });
  const pinned = parseModelSpec("hf:a/b/c.gguf@v1.0").source;
  assert.equal(pinned.kind === "hf" && pinned.revision, "v1.0");
});

test("malformed references are refused with a message naming them", () => {
  assert.throws(() => parseModelSpec("hf:owner/file.gguf"), /hf:owner\/repo\/file\.gguf/);
  assert.throws(() => parseModelSpec("hf:o/r/../../etc/passwd.gguf"), /not a Hugging Face reference/);
  assert.throws(() => parseModelSpec("hf:o/r/weights.bin"), /\.gguf/);
  assert.throws(() => parseModelSpec("bad name=/m/a.gguf"), /model name "bad name"/);
  assert.throws(() => parseModelSpec("x="), /missing a path/);
});
