import assert from "node:assert/strict";
import test from "node:test";
import { z } from "zod";
import { FlotillaError } from "@flotilla/protocol";
import { toGrammarSchema } from "./grammar-schema.ts";

const at = "response_format.json_schema.schema";

function refusal(schema: unknown): FlotillaError {
  try {
    toGrammarSchema(schema, at);
  } catch (err) {
    assert.ok(err instanceof FlotillaError);
    return err;
  }
  assert.fail("expected a refusal");
}

test("what a grammar can follow is kept; annotations are dropped", () => {
  const schema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Weather",
    type: "object",
    properties: {
      city: { type: "string", maxLength: 40, description: "where" },
      unit: { enum: ["c", "f"], default: "c" },
      days: { type: "array", items: { type: "integer" }, maxItems: 7 },
      at: { type: "string", format: "date-time" },
      note: { type: ["string", "null"] },
    },
    required: ["city"],
    additionalProperties: false,
  };
  assert.deepEqual(toGrammarSchema(schema, at), {
    type: "object",
    properties: {
      city: { type: "string", maxLength: 40, description: "where" },
      unit: { enum: ["c", "f"] },
      days: { type: "array", items: { type: "integer" }, maxItems: 7 },
      at: { type: "string", format: "date-time" },
      note: { type: ["string", "null"] },
    },
    additionalProperties: false,
  });
});

test("anyOf is an alternative, nullable adds null, and integers keep zod's safe-integer bounds", () => {
  assert.deepEqual(toGrammarSchema({ anyOf: [{ type: "string" }, { type: "null" }] }, at), { oneOf: [{ type: "string" }, { type: "null" }] });
  assert.deepEqual(toGrammarSchema({ type: "integer", nullable: true }, at), { type: ["integer", "null"] });
  const zodInt = z.toJSONSchema(z.object({ n: z.int() }));
  assert.deepEqual(toGrammarSchema(zodInt, at), { type: "object", properties: { n: { type: "integer" } }, additionalProperties: false });
});

test("references into the schema's own definitions are kept, under either name", () => {
  const schema = { definitions: { leaf: { type: "boolean" } }, type: "object", properties: { a: { $ref: "#/definitions/leaf" } } };
  assert.deepEqual(toGrammarSchema(schema, at), {
    $defs: { leaf: { type: "boolean" } },
    type: "object",
    properties: { a: { $ref: "#/$defs/leaf" } },
  });
  assert.match(refusal({ $ref: "https://example.com/s.json" }).message, /only references to the schema's own \$defs/);
});

test("an object with no properties named may have any; {} accepts any value", () => {
  assert.deepEqual(toGrammarSchema({ type: "object" }, at), { type: "object", additionalProperties: true });
  const any = toGrammarSchema({}, at);
  assert.ok("oneOf" in any && any.oneOf.length === 3);
});

test("what a grammar cannot follow is refused with a 400 naming the part", () => {
  const email = refusal({ type: "object", properties: { email: { type: "string", pattern: "^.+@.+$" } } });
  assert.equal(email.status, 400);
  assert.equal(email.param, `${at}.properties.email.pattern`);
  assert.match(email.message, /'pattern' cannot be enforced/);
  assert.equal(refusal({ type: "number", minimum: 0 }).param, `${at}.minimum`);
  assert.equal(refusal({ allOf: [{ type: "string" }] }).param, `${at}.allOf`);
  assert.equal(refusal({ type: "string", format: "email" }).param, `${at}.format`);
  assert.equal(refusal({ type: "strin" }).param, `${at}.type`);
  assert.equal(refusal({ type: "array", items: false }).param, `${at}.items`);
  assert.equal(refusal({ enum: [{ a: 1 }] }).param, `${at}.enum[0]`);
  // llama.cpp's parser refuses longer repetitions; named here instead of failing on the node.
  assert.equal(refusal({ type: "string", maxLength: 1_000_000_000 }).param, `${at}.maxLength`);
  assert.equal(refusal({ type: "array", minItems: 5000 }).param, `${at}.minItems`);
  assert.deepEqual(toGrammarSchema({ type: "string", maxLength: 2000 }, at), { type: "string", maxLength: 2000 });
});
