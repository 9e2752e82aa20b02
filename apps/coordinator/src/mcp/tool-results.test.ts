import { test } from "node:test";
import assert from "node:assert/strict";
import { FlotillaError } from "@flotilla/protocol";
import { failed, succeeded } from "./tool-results.ts";

test("a success carries its structured content, and the same as JSON text after an optional lead", () => {
  const structured = { nodes: 2 };
  assert.deepEqual(succeeded(structured), { content: [{ type: "text", text: '{\n  "nodes": 2\n}' }], structuredContent: structured });
  assert.deepEqual(succeeded(structured, "Two nodes.").content.map((c) => (c.type === "text" ? c.text : "")), ["Two nodes.", '{\n  "nodes": 2\n}']);
});

test("a flotilla failure is an isError result with the catalogue's code, its message and when to retry", () => {
  assert.deepEqual(failed(new FlotillaError("model_not_found", "The model `x` does not exist on this cluster")), {
    content: [{ type: "text", text: "model_not_found: The model `x` does not exist on this cluster" }],
    isError: true,
  });
  const busy = failed(new FlotillaError("no_backend", "no node can take this request now", { retryAfterS: 1 }));
  assert.deepEqual(busy.content, [{ type: "text", text: "no_backend: no node can take this request now (try again in 1 s)" }]);
});
