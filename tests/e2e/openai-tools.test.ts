// Tool calling and structured output through the official OpenAI SDK,
// against a real `flotilla up` process: node-llama-cpp's function calling
// with the model's own chat template, and arguments and answers held to
// their JSON schemas by llama.cpp grammars. The test model is a 260K-token
// story writer, so what is checked is what a grammar guarantees (the JSON
// parses and fits its schema) and what the protocol carries, never what
// a model would be clever enough to choose. Schemas bound their strings so
// that the story writer cannot fill max_tokens with one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { zodFunction, zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

const weather = z.object({ city: z.string().max(24), unit: z.enum(["celsius", "fahrenheit"]) }).strict();
const weatherTool = zodFunction({ name: "get_weather", description: "The weather in a city now", parameters: weather });
const review = z.object({ mood: z.enum(["happy", "sad"]), stars: z.int(), title: z.string().max(30), tags: z.array(z.string().max(10)).max(3) }).strict();

describe("OpenAI SDK: tools and structured output against flotilla up", () => {
  let fl: FlotillaProcess;
  let client: OpenAI;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
    client = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: "not-needed-while-no-keys-exist", maxRetries: 0 });
  });
  after(async () => {
    await fl.stop();
  });

  test("a tool round trip: the call, its result in the history, then an answer in text", async () => {
    const question = { role: "user", content: "What is the weather in Paris?" } as const;
    const { data: first, response } = await client.chat.completions
      .create({ model: TEST_MODEL_ID, messages: [question], tools: [weatherTool], tool_choice: "required", max_tokens: 200, seed: 1 })
      .withResponse();
    assert.match(response.headers.get("x-flotilla-route") ?? "", /model 'stories260K' for tool calls;/, "the route says what the model had to do");
    const choice = first.choices[0];
    assert.ok(choice);
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null, "a message of calls has no content, as from OpenAI");
    const call = choice.message.tool_calls?.[0];
    assert.ok(call && call.type === "function");
    assert.match(call.id, /^call_/);
    assert.equal(call.function.name, "get_weather");
    weather.parse(JSON.parse(call.function.arguments));

    const second = await client.chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [question, choice.message, { role: "tool", tool_call_id: call.id, content: JSON.stringify({ celsius: 3, sky: "rain" }) }],
      tools: [weatherTool],
      tool_choice: "none",
      max_tokens: 30,
      seed: 1,
    });
    const answer = second.choices[0];
    assert.ok(answer);
    assert.equal(answer.message.tool_calls, undefined);
    assert.ok((answer.message.content ?? "").length > 0);
    const alone = await client.chat.completions.create({ model: TEST_MODEL_ID, messages: [question], max_tokens: 1 });
    assert.ok(second.usage!.prompt_tokens > alone.usage!.prompt_tokens + 10, "the call and its result are part of the prompt");
  });

  test("streamed tool calls are assembled by the SDK's own stream helper", async () => {
    const stream = client.chat.completions.stream({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      tools: [weatherTool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      max_tokens: 200,
      seed: 2,
    });
    let pieces = 0;
    stream.on("tool_calls.function.arguments.delta", () => pieces++);
    const done = await stream.finalChatCompletion();
    const call = done.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === "function");
    assert.equal(call.function.name, "get_weather");
    assert.ok(pieces > 1, `the arguments came in pieces as they were written (${pieces})`);
    // The helper parses the arguments of a strict zodFunction tool itself.
    assert.deepEqual(call.function.parsed_arguments, weather.parse(JSON.parse(call.function.arguments)));
    assert.equal(done.choices[0]?.finish_reason, "tool_calls");
  });

  test("required with several tools: one of them is called, with its own arguments", async () => {
    const clock = zodFunction({ name: "get_time", parameters: z.object({ zone: z.enum(["UTC", "CET"]) }).strict() });
    const res = await client.chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Time or weather?" }],
      tools: [weatherTool, clock],
      tool_choice: "required",
      max_tokens: 200,
      seed: 3,
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === "function");
    const args: unknown = JSON.parse(call.function.arguments);
    if (call.function.name === "get_time") z.object({ zone: z.enum(["UTC", "CET"]) }).parse(args);
    else weather.parse(args);
  });

  test("auto: the tools are described to the model by its template, and the answer is well formed", async () => {
    const ask = { model: TEST_MODEL_ID, messages: [{ role: "user" as const, content: "Hello" }], max_tokens: 20, seed: 4 };
    const plain = await client.chat.completions.create(ask);
    const offered = await client.chat.completions.create({ ...ask, tools: [weatherTool] });
    assert.ok(offered.usage!.prompt_tokens > plain.usage!.prompt_tokens + 50, "the prompt carries the functions' description");
    const choice = offered.choices[0];
    assert.ok(choice);
    for (const call of choice.message.tool_calls ?? []) if (call.type === "function") weather.parse(JSON.parse(call.function.arguments));
    assert.equal(choice.finish_reason, (choice.message.tool_calls ?? []).length > 0 ? "tool_calls" : "length");
  });

  test("structured output: chat.completions.parse with a zod schema", async () => {
    const res = await client.chat.completions.parse({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Review the story." }],
      response_format: zodResponseFormat(review, "review"),
      max_tokens: 300,
      seed: 5,
    });
    const message = res.choices[0]?.message;
    assert.equal(res.choices[0]?.finish_reason, "stop");
    assert.deepEqual(message?.parsed, review.parse(JSON.parse(message?.content ?? "")));
  });

  test("json_object: the answer is a JSON object", async () => {
    const res = await client.chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Answer in JSON." }],
      response_format: { type: "json_object" },
      max_tokens: 400,
      seed: 6,
      temperature: 0,
    });
    const content = res.choices[0]?.message.content ?? "";
    assert.equal(res.choices[0]?.finish_reason, "stop");
    const parsed: unknown = JSON.parse(content);
    assert.ok(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed));
  });

  test("what cannot be served is refused with a 400 that says why and where", async () => {
    const refused = async (body: Record<string, unknown>) => {
      const err = await client.chat.completions
        .create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "x" }], max_tokens: 5, ...body } as never)
        .then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof OpenAI.BadRequestError, `expected a 400 for ${JSON.stringify(body)}`);
      return err;
    };
    const pattern = await refused({
      response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object", properties: { email: { type: "string", pattern: "@" } } } } },
    });
    assert.equal(pattern.param, "response_format.json_schema.schema.properties.email.pattern");
    assert.match(pattern.message, /'pattern' cannot be enforced/);
    assert.match((await refused({ logprobs: true })).message, /logprobs are not supported/);
    assert.match((await refused({ n: 2 })).message, /only n=1/);
    const unknownTool = await refused({ tools: [weatherTool], tool_choice: { type: "function", function: { name: "nope" } } });
    assert.equal(unknownTool.param, "tool_choice");
    const orphan = await refused({ messages: [{ role: "tool", tool_call_id: "call_x", content: "3" }] });
    assert.equal(orphan.param, "messages[0].tool_call_id");
  });
});
