// How a generation's output is held to what the request asked: free text,
// JSON (any, or a schema's), calls of the offered tools that the model
// chooses to make, or a call it must make. Pure: decided once per request,
// before a sequence is taken, so a schema that cannot be compiled is a 400
// that costs no slot.
import type { ChatModelFunctions, GbnfJsonSchema } from "node-llama-cpp";
import { FlotillaError, offeredTools, type GenerationRequest, type ToolSpec } from "@flotilla/protocol";
import { toGrammarSchema } from "./grammar-schema.ts";

export type OutputPlan =
  | { readonly kind: "text" }
  /** `schema` undefined: any JSON object. */
  | { readonly kind: "json"; readonly schema?: GbnfJsonSchema }
  /** The model may answer in text or call functions, in its own template's syntax (node-llama-cpp's function calling). */
  | { readonly kind: "may-call"; readonly functions: ChatModelFunctions; readonly maxParallel: number | undefined }
  /**
   * The model must call: the function named (its arguments are the output's
   * grammar, so they stream as written), or one of several (the output is
   * `{"name": …, "arguments": …}`, read when complete).
   */
  | { readonly kind: "must-call"; readonly functions: ChatModelFunctions; readonly call: MustCall };

export type MustCall =
  | { readonly kind: "named"; readonly name: string; readonly arguments: GbnfJsonSchema }
  | { readonly kind: "one-of"; readonly schema: GbnfJsonSchema };

/** What a function with no parameters schema takes: an object, of any properties. */
const ANY_ARGUMENTS = { type: "object" };

export function planOutput(request: GenerationRequest): OutputPlan {
  const { input, params } = request;
  const tools = offeredTools(input);
  if (tools.length === 0) {
    const format = params.responseFormat;
    if (format === undefined) return { kind: "text" };
    if (format.type === "json") return { kind: "json", schema: { type: "object", additionalProperties: true } as GbnfJsonSchema };
    return { kind: "json", schema: toGrammarSchema(format.schema, "response_format.json_schema.schema") };
  }
  if (params.responseFormat !== undefined) {
    throw new FlotillaError(
      "unsupported_parameter",
      "response_format cannot be combined with tools on this node: its grammar holds the whole answer, either to the schema or to the tools' calls",
      { param: "response_format" },
    );
  }

  const schemas = new Map(tools.map((tool, i) => [tool.name, argumentsSchema(tool, i)]));
  const functions: ChatModelFunctions = Object.fromEntries(
    tools.map((tool) => [tool.name, { ...(tool.description === undefined ? {} : { description: tool.description }), params: schemas.get(tool.name) }]),
  );
  const choice = input.kind === "chat" ? (input.toolChoice ?? "auto") : "auto";
  if (choice === "auto") {
    const parallel = input.kind === "chat" ? input.parallelToolCalls : undefined;
    return { kind: "may-call", functions, maxParallel: parallel === false ? 1 : undefined };
  }
  const named = choice === "required" ? (tools.length === 1 ? tools[0]?.name : undefined) : typeof choice === "object" ? choice.name : undefined;
  if (named !== undefined) {
    const schema = schemas.get(named);
    // The gateway checks that a named choice is among the tools; an agent called directly is told too.
    if (schema === undefined) throw new FlotillaError("invalid_request", `tool_choice names '${named}', which is not among the tools`, { param: "tool_choice" });
    return { kind: "must-call", functions, call: { kind: "named", name: named, arguments: schema } };
  }
  const oneOf = tools.map((tool) => ({
    type: "object",
    properties: { name: { const: tool.name }, arguments: schemas.get(tool.name) },
    required: ["name", "arguments"],
    additionalProperties: false,
  }));
  return { kind: "must-call", functions, call: { kind: "one-of", schema: { oneOf } as GbnfJsonSchema } };
}

function argumentsSchema(tool: ToolSpec, index: number): GbnfJsonSchema {
  return toGrammarSchema(tool.parameters ?? ANY_ARGUMENTS, `tools[${index}].function.parameters`);
}
