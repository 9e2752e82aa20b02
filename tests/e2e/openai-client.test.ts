// The official OpenAI SDK against a real `flotilla up` process serving the
// real test model through embedded llama.cpp.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { getLlama, type LlamaModel } from "node-llama-cpp";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

describe("OpenAI SDK against flotilla up", () => {
  let fl: FlotillaProcess;
  let client: OpenAI;
  let tokenizer: LlamaModel;

  before(async () => {
    const model = await testModelPath();
    fl = await startFlotilla({ args: ["--model", model] });
    client = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: "not-needed-while-no-keys-exist", maxRetries: 0 });
    const llama = await getLlama({ gpu: false, logLevel: "error" as never, build: "never" });
    tokenizer = await llama.loadModel({ modelPath: model });
  });
  after(async () => {
    await tokenizer.dispose();
    await fl.stop();
  });

  test("lists and retrieves the model", async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), [TEST_MODEL_ID]);
    const one = await client.models.retrieve(TEST_MODEL_ID);
    assert.equal(one.id, TEST_MODEL_ID);
    assert.equal(one.object, "model");
  });

  test("chat, non-streaming: text, finish_reason length at max_tokens, true usage counts", async () => {
    const res = await client.chat.completions.create({
      model: TEST_MODEL_ID,
      messages: [{ role: "user", content: "Tell me a story about a cat." }],
      max_tokens: 24,
      seed: 42,
    });
    const choice = res.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.role, "assistant");
    assert.ok((choice.message.content ?? "").length > 0);
    assert.equal(choice.finish_reason, "length");
    assert.equal(res.usage?.completion_tokens, 24, "exactly max_tokens tokens were generated");
    assert.ok((res.usage?.prompt_tokens ?? 0) >= tokenizer.tokenize("Tell me a story about a cat.").length);
    assert.equal(res.usage?.total_tokens, (res.usage?.prompt_tokens ?? 0) + 24);
  });

  test("the same seed gives the same answer; another seed another one", async () => {
    const ask = (seed: number) =>
      client.chat.completions
        .create({ model: TEST_MODEL_ID, messages: [{ role: "user", content: "Once" }], max_tokens: 30, seed, temperature: 1 })
        .then((r) => r.choices[0]?.message.content);
    const [a, b, c] = [await ask(7), await ask(7), await ask(8)];
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  test("completions: prompt_tokens is the tokenizer's count of the prompt (plus BOS)", async () => {
    const prompt = "Once upon a time there was a little dog";
    const res = await client.completions.create({ model: TEST_MODEL_ID, prompt, max_tokens: 10, seed: 1 });
    // A completion prompt is tokenized as the start of a text (no leading space added).
    const tokens = tokenizer.tokenize(prompt, false, "trimLeadingSpace").length;
    const bos = tokenizer.tokens.bos === null ? 0 : 1;
    assert.equal(res.usage?.prompt_tokens, tokens + bos);
    assert.equal(res.usage?.completion_tokens, 10);
    assert.equal(res.choices[0]?.finish_reason, "length");
    assert.ok((res.choices[0]?.text ?? "").length > 0);
  });

  test("completions honour echo", async () => {
    const res = await client.completions.create({ model: TEST_MODEL_ID, prompt: "Tom had a ball.", max_tokens: 5, echo: true, seed: 2 });
    assert.ok(res.choices[0]?.text.startsWith("Tom had a ball."));
  });

  test("a stop sequence ends the text before it, with finish_reason stop", async () => {
    const base = { model: TEST_MODEL_ID, prompt: "Once upon a time", max_tokens: 60, seed: 5, temperature: 0 } as const;
    const full = (await client.completions.create(base)).choices[0]?.text ?? "";
    const words = full.split(" ").filter((w) => w.length > 3);
    const stopWord = words[Math.floor(words.length / 2)];
    assert.ok(stopWord, `the model wrote enough words: ${full}`);
    const cut = await client.completions.create({ ...base, stop: [stopWord] });
    assert.equal(cut.choices[0]?.finish_reason, "stop");
    assert.equal(cut.choices[0]?.text, full.slice(0, full.indexOf(stopWord)));
  });

  test("chat, streaming: chunks arrive one by one and add up to the whole answer", async () => {
    const request = {
      model: TEST_MODEL_ID,
      messages: [{ role: "user" as const, content: "Tell me about a bird." }],
      max_tokens: 80,
      seed: 11,
    };
    const whole = (await client.chat.completions.create(request)).choices[0]?.message.content;
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    const arrivals: number[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        pieces.push(choice.delta.content);
        arrivals.push(performance.now());
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(pieces.length > 5, `many chunks, got ${pieces.length}`);
    assert.equal(pieces.join(""), whole);
    assert.ok(finish === "length" || finish === "stop");
    assert.equal(usage?.completion_tokens, finish === "length" ? 80 : usage?.completion_tokens);
    assert.ok((arrivals.at(-1) ?? 0) > (arrivals[0] ?? 0), "chunks arrived at different times");
  });

  test("completions, streaming, and the raw stream ends with data: [DONE]", async () => {
    const res = await fetch(`${fl.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: TEST_MODEL_ID, prompt: "Lily saw", max_tokens: 8, stream: true, seed: 3 }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = (await res.text()).split("\n\n").filter((e) => e !== "");
    assert.equal(events.at(-1), "data: [DONE]");
    const texts = events.slice(0, -1).map((e) => (JSON.parse(e.slice("data: ".length)) as { choices: Array<{ text: string }> }).choices[0]?.text);
    const whole = await client.completions.create({ model: TEST_MODEL_ID, prompt: "Lily saw", max_tokens: 8, seed: 3 });
    assert.equal(texts.join(""), whole.choices[0]?.text);
  });
});
