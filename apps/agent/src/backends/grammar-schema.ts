// A client's JSON Schema → the subset node-llama-cpp compiles into a
// grammar (its GbnfJsonSchema). Pure, so that what is enforced and what is
// refused is decided here, in one place, and tested directly.
//
// The grammar can only hold output to what it can express while the model
// writes it: types, properties, enums, consts, alternatives, string lengths,
// a few string formats, array lengths and references. A keyword it cannot
// express (a regex pattern, numeric bounds, allOf, not, …) is refused with a
// 400 naming it, rather than ignored: silently dropping it would hand back
// output the schema rejects. Annotations (title, default, examples, …) and
// keywords JSON Schema does not define are ignored, as the specification says.
import { FlotillaError } from "@flotilla/protocol";
import type { GbnfJsonSchema } from "node-llama-cpp";

type Json = Record<string, unknown>;

/** Keywords that constrain values in ways a grammar cannot follow. */
const UNENFORCEABLE = new Set([
  "pattern",
  "patternProperties",
  "propertyNames",
  "allOf",
  "not",
  "if",
  "then",
  "else",
  "dependentRequired",
  "dependentSchemas",
  "dependencies",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contains",
  "minContains",
  "maxContains",
  "uniqueItems",
  "multipleOf",
  "contentSchema",
]);

/** Numeric bounds are refused, except the ±(2^53 − 1) that zod and others add to every integer. */
const NUMERIC_BOUNDS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];

const FORMATS = new Set(["date-time", "time", "date"]);

/**
 * llama.cpp's grammar parser refuses a repetition above 2000 ("exceeds sane
 * defaults"), and a length or count bound is a repetition: refused here,
 * where the part can be named, instead of failing inside the node.
 */
export const MAX_GRAMMAR_REPETITIONS = 2000;
const TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);

/** Any JSON value: what `{}` and `true` accept. */
const ANY: Json = { oneOf: [{ type: ["string", "number", "boolean", "null"] }, { type: "object", additionalProperties: true }, { type: "array" }] };

/**
 * `param` is where the schema sits in the request, in OpenAI's notation
 * (`response_format.json_schema.schema`, `tools[0].function.parameters`):
 * an error names the part under it.
 */
export function toGrammarSchema(schema: unknown, param: string): GbnfJsonSchema {
  const defsKey = isObject(schema) && "definitions" in schema && !("$defs" in schema) ? "definitions" : "$defs";
  // The shape was checked keyword by keyword above; node-llama-cpp's type is generic over its definitions, which a schema built at run time cannot name.
  return convert(schema, param, defsKey) as GbnfJsonSchema;
}

function convert(schema: unknown, at: string, defsKey: string): Json {
  if (schema === true) return ANY;
  if (schema === false) throw refuse(at, "a schema of `false` accepts nothing");
  if (!isObject(schema)) throw refuse(at, "a schema must be an object or a boolean");

  for (const key of Object.keys(schema)) {
    if (UNENFORCEABLE.has(key)) throw refuse(`${at}.${key}`, `'${key}' cannot be enforced while the model writes`);
  }
  for (const key of NUMERIC_BOUNDS) {
    const bound = schema[key];
    if (bound !== undefined && !(typeof bound === "number" && Math.abs(bound) >= Number.MAX_SAFE_INTEGER)) {
      throw refuse(`${at}.${key}`, `numeric bounds ('${key}') cannot be enforced while the model writes`);
    }
  }

  const out: Json = {};
  if (typeof schema.description === "string") out.description = schema.description;
  const defs = schema[defsKey];
  if (defs !== undefined) {
    if (!isObject(defs)) throw refuse(`${at}.${defsKey}`, "definitions must be an object of schemas");
    out.$defs = Object.fromEntries(Object.entries(defs).map(([name, def]) => [name, convert(def, `${at}.${defsKey}.${name}`, defsKey)]));
  }

  if (schema.$ref !== undefined) return { ...out, $ref: reference(schema.$ref, `${at}.$ref`, defsKey) };
  if (schema.const !== undefined) return { ...out, const: literal(schema.const, `${at}.const`) };
  if (schema.enum !== undefined) {
    if (!Array.isArray(schema.enum) || schema.enum.length === 0) throw refuse(`${at}.enum`, "enum must be a non-empty array");
    return { ...out, enum: schema.enum.map((value, i) => literal(value, `${at}.enum[${i}]`)) };
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = schema[key];
    if (options === undefined) continue;
    if (!Array.isArray(options) || options.length === 0) throw refuse(`${at}.${key}`, `${key} must be a non-empty array of schemas`);
    // Either is the same to a grammar: the model writes one of the alternatives.
    return { ...out, oneOf: options.map((option, i) => convert(option, `${at}.${key}[${i}]`, defsKey)) };
  }

  const types = typesOf(schema, at);
  if (types === undefined) return { ...ANY, ...out };
  const nullable = schema.nullable === true && !types.includes("null");
  const structured = types.filter((t) => t === "object" || t === "array");
  const simple = types.filter((t) => t !== "object" && t !== "array");
  if (nullable) simple.push("null");
  if (structured.length === 0) return { ...out, ...simpleSchema(schema, simple, at) };
  const alternatives = [...structured.map((t) => (t === "object" ? objectSchema(schema, at, defsKey) : arraySchema(schema, at, defsKey)))];
  if (simple.length > 0) alternatives.push(simpleSchema(schema, simple, at));
  return alternatives.length === 1 ? { ...out, ...alternatives[0] } : { ...out, oneOf: alternatives };
}

function typesOf(schema: Json, at: string): string[] | undefined {
  const type = schema.type;
  if (type === undefined) {
    if (schema.properties !== undefined || schema.additionalProperties !== undefined) return ["object"];
    if (schema.items !== undefined || schema.prefixItems !== undefined) return ["array"];
    if (schema.minLength !== undefined || schema.maxLength !== undefined || schema.format !== undefined) return ["string"];
    return undefined;
  }
  const types = Array.isArray(type) ? type : [type];
  if (types.length === 0) throw refuse(`${at}.type`, "type must name at least one type");
  for (const t of types) {
    if (typeof t !== "string" || !TYPES.has(t)) throw refuse(`${at}.type`, `unknown type ${shown(t)}`);
  }
  return types as string[];
}

function simpleSchema(schema: Json, types: string[], at: string): Json {
  if (types.length === 1 && types[0] === "string") {
    if (schema.format !== undefined) {
      if (typeof schema.format !== "string" || !FORMATS.has(schema.format)) {
        throw refuse(`${at}.format`, `the string format ${shown(schema.format)} cannot be enforced (date-time, date and time can)`);
      }
      return { type: "string", format: schema.format };
    }
    const string: Json = { type: "string" };
    if (schema.minLength !== undefined) string.minLength = count(schema.minLength, `${at}.minLength`);
    if (schema.maxLength !== undefined) string.maxLength = count(schema.maxLength, `${at}.maxLength`);
    return string;
  }
  return { type: types.length === 1 ? types[0] : types };
}

function objectSchema(schema: Json, at: string, defsKey: string): Json {
  const out: Json = { type: "object" };
  const properties = schema.properties;
  if (properties !== undefined) {
    if (!isObject(properties)) throw refuse(`${at}.properties`, "properties must be an object of schemas");
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, property]) => [name, convert(property, `${at}.properties.${name}`, defsKey)]),
    );
  }
  const extra = schema.additionalProperties;
  if (extra === undefined) {
    // JSON Schema allows any other property unless told otherwise; with no
    // properties named, that is the only way for the model to write any.
    if (properties === undefined) out.additionalProperties = true;
  } else if (typeof extra === "boolean") {
    out.additionalProperties = extra;
  } else {
    out.additionalProperties = convert(extra, `${at}.additionalProperties`, defsKey);
  }
  if (schema.minProperties !== undefined) out.minProperties = count(schema.minProperties, `${at}.minProperties`);
  if (schema.maxProperties !== undefined) out.maxProperties = count(schema.maxProperties, `${at}.maxProperties`);
  return out;
}

function arraySchema(schema: Json, at: string, defsKey: string): Json {
  const out: Json = { type: "array" };
  if (schema.items !== undefined) out.items = convert(schema.items, `${at}.items`, defsKey);
  if (schema.prefixItems !== undefined) {
    if (!Array.isArray(schema.prefixItems)) throw refuse(`${at}.prefixItems`, "prefixItems must be an array of schemas");
    out.prefixItems = schema.prefixItems.map((item, i) => convert(item, `${at}.prefixItems[${i}]`, defsKey));
  }
  if (schema.minItems !== undefined) out.minItems = count(schema.minItems, `${at}.minItems`);
  if (schema.maxItems !== undefined) out.maxItems = count(schema.maxItems, `${at}.maxItems`);
  return out;
}

/** Only references into the schema's own definitions: the grammar is built from this document alone. */
function reference(ref: unknown, at: string, defsKey: string): string {
  const prefix = `#/${defsKey}/`;
  if (typeof ref !== "string" || !ref.startsWith(prefix) || ref.length === prefix.length) {
    throw refuse(at, `only references to the schema's own ${defsKey} (${prefix}NAME) can be compiled`);
  }
  return `#/$defs/${ref.slice(prefix.length)}`;
}

function literal(value: unknown, at: string): string | number | boolean | null {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  throw refuse(at, "only strings, numbers, booleans and null can be constants");
}

function count(value: unknown, at: string): number {
  if (!(typeof value === "number" && Number.isInteger(value) && value >= 0)) throw refuse(at, "must be a whole number, 0 or more");
  if (value > MAX_GRAMMAR_REPETITIONS) throw refuse(at, `llama.cpp's grammars repeat a part at most ${MAX_GRAMMAR_REPETITIONS} times, and this asks for ${value}`);
  return value;
}

/** A client's value in a message, cut short: it may be any size. */
function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length <= 40 ? text : `${text.slice(0, 39)}…`;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function refuse(param: string, why: string): FlotillaError {
  return new FlotillaError("invalid_request", `the schema at ${param} cannot be compiled into a grammar: ${why}`, { param });
}
