// LangChain's ChatOpenAI, a client nobody here wrote, against a real
// `flotilla up` process: bindTools and withStructuredOutput (both of its
// methods: a JSON schema response format, and a forced function call).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChatOpenAI } from "@langchain/openai";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

// Strings are bounded so that the test model (a story writer) cannot fill max_tokens with one.
const weather = z.object({ city: z.string().max(20) });
const review = z.object({ mood: z.enum(["happy", "sad"]), title: z.string().max(20) });

describe("LangChain ChatOpenAI against flotilla up", () => {
  let fl: FlotillaProcess;
  let llm: ChatOpenAI;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
    llm = new ChatOpenAI({ model: TEST_MODEL_ID, apiKey: "not-needed-while-no-keys-exist", configuration: { baseURL: `${fl.url}/v1` }, maxTokens: 200, maxRetries: 0 });
  });
  after(async () => {
    await fl.stop();
  });

  test("bindTools: the model's call comes back as LangChain's parsed tool call", async () => {
    const getWeather = tool(({ city }) => `cold in ${city}`, { name: "get_weather", description: "The weather in a city", schema: weather });
    const message = await llm.bindTools([getWeather], { tool_choice: "required" }).invoke("What is the weather in Paris?");
    assert.equal(message.tool_calls?.length, 1);
    const call = message.tool_calls?.[0];
    assert.equal(call?.name, "get_weather");
    weather.parse(call?.args);
    assert.match(call?.id ?? "", /^call_/);
    // The tool runs on the parsed call, as an agent loop would run it.
    assert.ok(call);
    const ran = await getWeather.invoke(call);
    assert.match(typeof ran.content === "string" ? ran.content : JSON.stringify(ran.content), /^cold in /);
  });

  for (const method of ["jsonSchema", "functionCalling"] as const) {
    test(`withStructuredOutput (${method}): an object the schema accepts`, async () => {
      const answer = await llm.withStructuredOutput(review, { method }).invoke("Review the story.");
      assert.deepEqual(answer, review.parse(answer));
    });
  }
});
