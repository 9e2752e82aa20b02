// Generation within bounds (ADR 0017), on real `flotilla up` processes and the
// real model: an answer never runs past the context window, whatever
// max_tokens a client asks for (node-llama-cpp would shift the context and go
// on, holding the slot), and a client's max_tokens is capped at the server's
// --max-tokens-limit.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { fetchClusterStatus, startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

/** Asked for; llama.cpp rounds a context up (to 256 here), so the test reads the real size from status. */
const CONTEXT_ASKED = 128;

describe("generation within bounds", () => {
  let small: FlotillaProcess;
  let limited: FlotillaProcess;
  let context: number;

  before(async () => {
    const model = await testModelPath();
    [small, limited] = await Promise.all([
      startFlotilla({ args: ["--model", model, "--ctx-size", String(CONTEXT_ASKED)] }),
      startFlotilla({ args: ["--model", model, "--max-tokens-limit", "8"] }),
    ]);
    const status = await fetchClusterStatus(small.url, small.adminKey);
    context = status.nodes[0]?.models[0]?.contextSize ?? 0;
    assert.ok(context >= CONTEXT_ASKED && context < 1024, `a small context (${context})`);
  });
  after(async () => {
    await Promise.all([small.stop(), limited.stop()]);
  });

  const client = (fl: FlotillaProcess) => new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: "unused", maxRetries: 0 });

  test("a chat asking for a million tokens ends where the context is full, with finish_reason length", async () => {
    // The story model rarely stops by itself at temperature 0 on this prompt, so the context is what ends it.
    const res = await client(small).chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Once upon a time" }],
      max_tokens: 1_000_000,
      temperature: 0,
    });
    const usage = res.usage;
    assert.ok(usage);
    assert.equal(res.choices[0]?.finish_reason, "length");
    assert.ok(usage.prompt_tokens + usage.completion_tokens <= context, `${usage.prompt_tokens} + ${usage.completion_tokens} tokens fit in ${context}`);
    assert.ok(usage.completion_tokens >= context - usage.prompt_tokens - 1, "and it did fill the context");
  });

  test("tools whose description does not fit the context are a 400 context_length_exceeded, not a crash", async () => {
    const tools = ["auto", "required"] as const;
    for (const tool_choice of tools) {
      const err = await client(small)
        .chat.completions.create({
          model: TEST_MODEL_ID,
          messages: [{ role: "user", content: "Weather?" }],
          tools: [{ type: "function", function: { name: "get_weather", description: "The weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
          tool_choice,
          max_tokens: 10,
        })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof OpenAI.BadRequestError, `${tool_choice}: ${String(err)}`);
      assert.equal(err.code, "context_length_exceeded", tool_choice);
    }
  });

  test("a streamed chat without max_tokens is bounded by the context too", async () => {
    const stream = await client(small).chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Once upon a time" }],
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    assert.ok(usage);
    assert.ok(usage.prompt_tokens + usage.completion_tokens <= context);
  });

  test("max_tokens above the server's limit is capped to it", async () => {
    const res = await client(limited).chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Tell me a long story." }],
      max_tokens: 500,
      temperature: 0,
    });
    assert.equal(res.usage?.completion_tokens, 8);
    assert.equal(res.choices[0]?.finish_reason, "length");
  });
});
