// OpenAI's Batch API end to end: the official openai client against a real
// `flotilla up` serving the real test model. A JSONL file is uploaded, a
// batch made from it runs every line as a job through the same routing and
// backends as /v1, and the output file holds one answer per line in OpenAI's
// line format. A bad line is refused naming it; another key sees nothing
// (docs/adr/0037).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { startFlotilla, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: { object: string; choices: { message: { content: string } }[] } } | null;
  error: unknown;
}

const chatLine = (customId: string, content: string) =>
  JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: TEST_MODEL_ID, messages: [{ role: "user", content }], max_tokens: 4, seed: 1 } });

describe("OpenAI batches against flotilla up", () => {
  let fl: FlotillaProcess;
  let alice: OpenAI;
  let bob: OpenAI;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
    const keyOf = async (name: string) => {
      const res = await fetch(`${fl.url}/cluster/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${fl.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name }),
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { key: string }).key;
    };
    alice = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: await keyOf("alice"), maxRetries: 0 });
    bob = new OpenAI({ baseURL: `${fl.url}/v1`, apiKey: await keyOf("bob"), maxRetries: 0 });
  });
  after(() => fl.stop());

  /** Polls as a client of the Batch API does, until the batch is terminal or the deadline passes. */
  const untilDone = async (id: string, deadlineMs = 60_000) => {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const batch = await alice.batches.retrieve(id);
      if (["completed", "failed", "cancelled", "expired"].includes(batch.status)) return batch;
      assert.ok(Date.now() < end, `batch still ${batch.status} after ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  test("files.create → batches.create → retrieve until completed → files.content: one answer per line, in OpenAI's shape", async () => {
    const ids = ["tale-1", "tale-2", "tale-3", "tale-4"];
    const jsonl = ids.map((id, i) => chatLine(id, `Once upon a time ${i}`)).join("\n") + "\n";
    const file = await alice.files.create({ file: await toFile(Buffer.from(jsonl), "tales.jsonl"), purpose: "batch" });
    assert.equal(file.purpose, "batch");
    assert.equal(file.bytes, Buffer.byteLength(jsonl));

    const created = await alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    assert.equal(created.status, "validating");
    assert.equal(created.request_counts?.total, 4);

    const batch = await untilDone(created.id);
    assert.equal(batch.status, "completed", JSON.stringify(batch));
    assert.deepEqual(batch.request_counts, { total: 4, completed: 4, failed: 0 });
    assert.ok(batch.output_file_id);
    assert.equal(batch.error_file_id, null);

    const content = await (await alice.files.content(batch.output_file_id)).text();
    const lines = content.trimEnd().split("\n").map((l) => JSON.parse(l) as OutputLine);
    assert.deepEqual(lines.map((l) => l.custom_id), ids, "one line per input line, in input order");
    for (const line of lines) {
      assert.match(line.id, /^batch_req_/);
      assert.equal(line.error, null);
      assert.equal(line.response?.status_code, 200);
      assert.match(line.response?.request_id ?? "", /^req_/);
      assert.equal(line.response?.body.object, "chat.completion");
      assert.ok((line.response?.body.choices[0]?.message.content ?? "").length > 0);
    }
    const output = await alice.files.retrieve(batch.output_file_id);
    assert.equal(output.purpose, "batch_output");
  });

  test("a bad JSONL line is a 400 naming its line number, and no batch is made", async () => {
    const jsonl = [chatLine("ok", "hi"), JSON.stringify({ custom_id: "bad", method: "POST", url: "/v1/chat/completions", body: { model: TEST_MODEL_ID } })].join("\n");
    const file = await alice.files.create({ file: await toFile(Buffer.from(jsonl), "bad.jsonl"), purpose: "batch" });
    const before = (await alice.batches.list()).data.length;
    await assert.rejects(alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.match(err.message, /^400 line 2: body\.messages: /);
      return true;
    });
    assert.equal((await alice.batches.list()).data.length, before);
  });

  test("another key cannot read the batch, its files or its output", async () => {
    const file = await alice.files.create({ file: await toFile(Buffer.from(chatLine("mine", "hello")), "mine.jsonl"), purpose: "batch" });
    const batch = await untilDone((await alice.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    assert.equal(batch.status, "completed");
    await assert.rejects(bob.batches.retrieve(batch.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.batches.cancel(batch.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.files.retrieve(file.id), (err) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(bob.files.content(batch.output_file_id ?? ""), (err) => err instanceof OpenAI.NotFoundError);
    assert.ok(!(await bob.batches.list()).data.some((b) => b.id === batch.id));
    assert.equal((await alice.batches.retrieve(batch.id)).id, batch.id, "its owner still reads it");
  });
});
