import { test } from "node:test";
import assert from "node:assert/strict";
import { bodyIsOptional } from "./optional-body.ts";

test("DELETE and the bodiless POST actions take an empty body; the rest need one", () => {
  assert.equal(bodyIsOptional("DELETE", "/cluster/nodes/:name"), true);
  assert.equal(bodyIsOptional("DELETE", "/cluster/conversations/:id"), true);
  for (const url of ["/cluster/nodes/:name/drain", "/cluster/nodes/:name/undrain", "/cluster/nodes/:name/test", "/cluster/tokens"]) {
    assert.equal(bodyIsOptional("POST", url), true, url);
  }
  for (const url of ["/v1/chat/completions", "/cluster/execute", "/cluster/nodes", "/cluster/keys"]) {
    assert.equal(bodyIsOptional("POST", url), false, url);
  }
  assert.equal(bodyIsOptional("POST", undefined), false, "no route matched: nothing is optional");
});
