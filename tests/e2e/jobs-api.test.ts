// The async job API (issue 12) against a real `flotilla up` serving the real
// test model: what a user checks. A chat job submitted to POST /v1/jobs runs
// through the same routing and node as /v1 and keeps the /v1 answer as its
// result; its events stream ends once it is terminal; a job of a kind no node
// runs waits with the reason, and can be cancelled; bad input is a 400 naming
// the field with nothing queued; another key cannot see a job; a job accepted
// before a kill -9 of the coordinator is run after the restart; a job's
// webhook arrives signed, and one outside the URL policy is refused.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { jobList, jobObject, jobEvent, type JobObject, type SplitResult } from "@flotilla/protocol";
import OpenAI from "openai";
import { runCli, startFlotilla, startWebhookReceiver, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";

const chatInput = (content: string, maxTokens = 8) => ({ model: TEST_MODEL_ID, messages: [{ role: "user", content }], max_tokens: maxTokens, temperature: 0 });

async function post(url: string, body: unknown, key: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function get(url: string, key: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

/** Reads the job's event stream until the server ends it; returns every event. */
async function followEvents(url: string, key: string): Promise<Array<{ type: string; job: JobObject }>> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => jobEvent.parse(JSON.parse(block.slice(6))));
}

describe("jobs through flotilla up", () => {
  let fl: FlotillaProcess;
  let key: string;
  let otherKey: string;

  before(async () => {
    fl = await startFlotilla({ args: ["--model", await testModelPath()] });
    const env = { FLOTILLA_URL: fl.url, FLOTILLA_ADMIN_KEY: fl.adminKey };
    key = (await runCli(["keys", "create", "--name", "jobs-a"], env)).stdout.trim();
    otherKey = (await runCli(["keys", "create", "--name", "jobs-b"], env)).stdout.trim();
    assert.ok(key.length >= 32 && otherKey.length >= 32, "two client keys were made");
  });
  after(() => fl.stop());

  test("a chat job runs on the node and keeps the /v1 answer; its events end with the terminal state", async () => {
    const submitted = await post(`${fl.url}/v1/jobs`, { kind: "chat", input: chatInput("Once upon a time") }, key);
    assert.equal(submitted.status, 202);
    const job = jobObject.parse(submitted.body);
    assert.equal(job.kind, "chat");
    assert.equal(job.pool, "brain");

    const events = await followEvents(`${fl.url}/v1/jobs/${job.id}/events`, key);
    const last = events.at(-1);
    assert.equal(last?.job.state, "succeeded", JSON.stringify(last));
    assert.ok(last.job.nodes.length === 1, "the answering node is named");
    assert.equal(last.job.result_url, `/v1/jobs/${job.id}/result`);

    const result = await get(`${fl.url}${last.job.result_url}`, key);
    assert.equal(result.status, 200);
    const completion = result.body as { object: string; model: string; choices: Array<{ message: { role: string; content: string } }>; usage: { completion_tokens: number } };
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.model, TEST_MODEL_ID);
    assert.equal(completion.choices[0]?.message.role, "assistant");
    assert.ok((completion.choices[0]?.message.content ?? "").length > 0);
    assert.ok(completion.usage.completion_tokens > 0 && completion.usage.completion_tokens <= 8);

    const listed = jobList.parse((await get(`${fl.url}/v1/jobs?state=succeeded`, key)).body);
    assert.ok(listed.data.some((j) => j.id === job.id));
  });

  test("an image job waits, saying why, keeps its position, and is cancelled by id", async () => {
    const first = jobObject.parse((await post(`${fl.url}/v1/jobs`, { kind: "image", input: { prompt: "a lighthouse" } }, key)).body);
    const second = jobObject.parse((await post(`${fl.url}/v1/jobs`, { kind: "image", input: { prompt: "a boat" }, priority: "low" }, key)).body);
    assert.equal(first.pool, "vision");
    assert.equal(first.state, "queued");
    assert.match(first.waiting_reason ?? "", /no node in pool 'vision' runs image jobs/);
    assert.equal(second.position, (first.position ?? 0) + 1);

    const cancelled = await post(`${fl.url}/v1/jobs/${first.id}/cancel`, {}, key);
    assert.equal(cancelled.status, 200);
    assert.equal(jobObject.parse(cancelled.body).state, "cancelled");
    const again = await post(`${fl.url}/v1/jobs/${first.id}/cancel`, {}, key);
    assert.equal(again.status, 200, "cancelling a cancelled job is no change");
    const moved = jobObject.parse((await get(`${fl.url}/v1/jobs/${second.id}`, key)).body);
    assert.equal(moved.position, first.position, "the job behind moved up");
    const result = await get(`${fl.url}/v1/jobs/${first.id}/result`, key);
    assert.equal(result.status, 409);
    await post(`${fl.url}/v1/jobs/${second.id}/cancel`, {}, key);

    // No node here has a speech engine (no --speech): a speech job waits for one rather than failing.
    const speech = jobObject.parse((await post(`${fl.url}/v1/jobs`, { kind: "speech", input: { input: "hello" } }, key)).body);
    assert.equal(speech.pool, "voice");
    assert.match(speech.waiting_reason ?? "", /no node in pool 'voice' runs speech jobs/);
    await post(`${fl.url}/v1/jobs/${speech.id}/cancel`, {}, key);
  });

  test("bad input is a 400 naming the field, and nothing is queued", async () => {
    const before = jobList.parse((await get(`${fl.url}/v1/jobs?limit=1000`, key)).body).data.length;
    const cases: Array<[unknown, RegExp, string]> = [
      [{ kind: "painting", input: {} }, /kind/, "kind"],
      [{ kind: "chat", input: { model: TEST_MODEL_ID, messages: [{ role: "wizard", content: "x" }] } }, /input\.messages\[0\]\.role/, "input.messages[0].role"],
      [{ kind: "chat", input: { ...chatInput("x"), stream: true } }, /stored, not streamed/, "input.stream"],
      [{ kind: "image", input: { prompt: "x", size: "huge" } }, /input\.size/, "input.size"],
      [{ kind: "split", input: { commands: "a\nb", model: TEST_MODEL_ID, prompt_template: "no placeholder" } }, /prompt_template/, "input.prompt_template"],
      [{ kind: "chat", input: chatInput("x"), priority: "urgent" }, /priority/, "priority"],
      // A pool no kind and no node has would be a queue made by a client, walked by every lease loop.
      [{ kind: "chat", input: chatInput("x"), pool: "made-up" }, /no pool 'made-up'; there are .*brain/, "pool"],
    ];
    for (const [body, message, param] of cases) {
      const res = await post(`${fl.url}/v1/jobs`, body, key);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = (res.body as { error: { message: string; param: string | null; type: string } }).error;
      assert.equal(error.type, "invalid_request_error");
      assert.match(error.message, message);
      assert.equal(error.param, param);
    }
    const badList = await get(`${fl.url}/v1/jobs?state=sleeping`, key);
    assert.equal(badList.status, 400);
    const after = jobList.parse((await get(`${fl.url}/v1/jobs?limit=1000`, key)).body).data.length;
    assert.equal(after, before);
  });

  test("a job belongs to its key; the same idempotency key gives back the same job", async () => {
    const body = { kind: "image", input: { prompt: "the same" }, idempotency_key: "order-17" };
    const a = jobObject.parse((await post(`${fl.url}/v1/jobs`, body, key)).body);
    const repeat = jobObject.parse((await post(`${fl.url}/v1/jobs`, body, key)).body);
    assert.equal(repeat.id, a.id);
    const theirs = jobObject.parse((await post(`${fl.url}/v1/jobs`, body, otherKey)).body);
    assert.notEqual(theirs.id, a.id, "another key's idempotency key is its own");

    assert.equal((await get(`${fl.url}/v1/jobs/${a.id}`, otherKey)).status, 404);
    assert.equal((await post(`${fl.url}/v1/jobs/${a.id}/cancel`, {}, otherKey)).status, 404);
    const theirList = jobList.parse((await get(`${fl.url}/v1/jobs`, otherKey)).body);
    assert.deepEqual(theirList.data.map((j) => j.id), [theirs.id]);
    assert.equal((await get(`${fl.url}/v1/jobs/${a.id}`, fl.adminKey)).status, 200, "the admin key sees every job");
    await post(`${fl.url}/v1/jobs/${a.id}/cancel`, {}, key);
    await post(`${fl.url}/v1/jobs/${theirs.id}/cancel`, {}, otherKey);
  });

  test("flotilla jobs: submit --wait prints the answer; list, show and cancel speak for the key", async () => {
    const env = { FLOTILLA_URL: fl.url, FLOTILLA_API_KEY: key };
    const waited = await runCli(["jobs", "submit", "--kind", "chat", "--model", TEST_MODEL_ID, "--prompt", "Once upon a time", "--max-tokens", "8", "--wait"], env);
    assert.equal(waited.code, 0, waited.stderr);
    assert.ok(waited.stdout.trim().length > 0, "the answer's text is printed");
    assert.match(waited.stderr, /succeeded/);

    const queued = await runCli(["jobs", "submit", "--kind", "image", "--prompt", "a kite"], env);
    assert.equal(queued.code, 0, queued.stderr);
    const id = queued.stdout.trim();
    const shown = await runCli(["jobs", "show", id], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /queued/);
    assert.match(shown.stdout, /no node in pool 'vision' runs image jobs/);
    const listed = await runCli(["jobs", "list", "--state", "queued", "--json"], env);
    assert.ok(jobList.parse(JSON.parse(listed.stdout)).data.some((j) => j.id === id));
    assert.equal((await runCli(["jobs", "cancel", id], env)).code, 0);
    assert.equal(jobObject.parse((await get(`${fl.url}/v1/jobs/${id}`, key)).body).state, "cancelled");

    const others = await runCli(["jobs", "show", id], { FLOTILLA_URL: fl.url, FLOTILLA_API_KEY: otherKey });
    assert.equal(others.code, 1, "another key's job is not found");
    assert.match(others.stderr, /404/);
    const usage = await runCli(["jobs", "submit", "--kind", "chat", "--input", "{not json"], env);
    assert.equal(usage.code, 2, usage.stderr);
  });

  test("a job's webhook reaches a loopback receiver, verified with the key's secret by the openai client; a URL outside the policy is a 400", async (t) => {
    const receiver = await startWebhookReceiver();
    t.after(() => receiver.close());
    const submitted = await post(`${fl.url}/v1/jobs`, { kind: "chat", input: chatInput("A cat", 4), webhook: receiver.url }, key);
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = jobObject.parse(submitted.body);
    const [sent] = await receiver.waitFor(1);
    assert.ok(sent);
    const secret = (await get(`${fl.url}/v1/webhooks/secret`, key)).body as { object: string; secret: string };
    assert.equal(secret.object, "webhook_secret");
    const openai = new OpenAI({ apiKey: key, baseURL: `${fl.url}/v1` });
    await openai.webhooks.verifySignature(sent.body, sent.headers, secret.secret);
    const event = JSON.parse(sent.body) as { type: string; data: JobObject };
    assert.equal(event.type, "job.succeeded");
    assert.equal(event.data.id, job.id);
    assert.equal(event.data.result_url, `/v1/jobs/${job.id}/result`);
    const otherSecret = (await get(`${fl.url}/v1/webhooks/secret`, otherKey)).body as { secret: string };
    assert.notEqual(otherSecret.secret, secret.secret, "each key verifies only its own jobs' webhooks");

    for (const refused of ["http://169.254.169.254/latest/meta-data/", "https://8.8.8.8/hook"]) {
      const before = jobList.parse((await get(`${fl.url}/v1/jobs`, key)).body).data.length;
      const answer = await post(`${fl.url}/v1/jobs`, { kind: "chat", input: chatInput("x"), webhook: refused }, key);
      assert.equal(answer.status, 400, refused);
      const error = (answer.body as { error: { param: string; message: string } }).error;
      assert.equal(error.param, "webhook");
      assert.match(error.message, /metadata|outside the allowed networks/);
      assert.equal(jobList.parse((await get(`${fl.url}/v1/jobs`, key)).body).data.length, before, "nothing was queued");
    }
  });

  test("a split run fans its chunks out as chat jobs and joins their answers in order; the seed's /generate and /queue-status speak its shapes", async () => {
    const commands = "ls\npwd\nwhoami\ndate\nuptime\n";
    const submitted = await post(`${fl.url}/v1/jobs`, { kind: "split", input: { commands, chunk_size: 2, model: TEST_MODEL_ID, max_tokens: 4 } }, key);
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const job = jobObject.parse(submitted.body);
    const events = await followEvents(`${fl.url}/v1/jobs/${job.id}/events`, key);
    assert.equal(events.at(-1)?.job.state, "succeeded", JSON.stringify(events.at(-1)));
    const result = (await get(`${fl.url}/v1/jobs/${job.id}/result`, key)).body as SplitResult;
    assert.equal(result.object, "split.result");
    assert.equal(result.chunks.length, 3);
    assert.equal(result.output, result.chunks.map((chunk) => chunk.output).join("\n"));
    assert.ok(result.usage.completion_tokens > 0 && result.usage.completion_tokens <= 12);
    const children = jobList.parse((await get(`${fl.url}/v1/jobs?parent_id=${job.id}`, key)).body).data;
    assert.deepEqual(children.map((child) => [child.kind, child.state]), [["chat", "succeeded"], ["chat", "succeeded"], ["chat", "succeeded"]]);
    assert.deepEqual(children.map((child) => child.id), result.chunks.map((chunk) => chunk.job_id), "the chunks in order");

    const generated = await post(`${fl.url}/generate`, { commands: "echo a\necho b\necho c", model: TEST_MODEL_ID, split: 1, max_tokens: 3 }, key);
    assert.equal(generated.status, 200, JSON.stringify(generated.body));
    const answer = generated.body as SplitResult & { job_id: string };
    assert.equal(answer.chunks.length, 3);
    assert.equal(jobObject.parse((await get(`${fl.url}/v1/jobs/${answer.job_id}`, key)).body).kind, "split");
    const refused = await post(`${fl.url}/generate`, { commands: "x", model: TEST_MODEL_ID, split: 0 }, key);
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { error: { param: string } }).error.param, "split");

    const status = await get(`${fl.url}/queue-status`, key);
    assert.equal(status.status, 200);
    const figures = status.body as { queue_size: number; active: number; active_backends: number; total_backends: number; pools: Record<string, { queue_size: number; total_backends: number }> };
    assert.equal(figures.total_backends, 1, "flotilla up's own node");
    // Its node is in pool `default`; text jobs queue in `brain` (the pools issue joins the two).
    assert.equal(figures.pools.default?.total_backends, 1, JSON.stringify(figures));
    assert.equal(typeof figures.pools.brain?.queue_size, "number");
    assert.ok(figures.queue_size >= 0 && figures.active >= 0 && figures.active_backends >= 0);
  });

  test("/metrics counts the jobs of each pool by state and times their waits and runs", async () => {
    const res = await fetch(`${fl.url}/metrics`, { headers: { authorization: `Bearer ${fl.adminKey}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? "NaN");
    assert.ok(value('flotilla_jobs{pool="brain",state="succeeded"}') >= 1, "the chat jobs that ran are counted");
    assert.ok(value('flotilla_jobs{pool="vision",state="cancelled"}') >= 1, "the cancelled image jobs are counted");
    assert.ok(value('flotilla_job_wait_seconds_count{pool="brain",kind="chat"}') >= 1);
    assert.ok(value('flotilla_job_run_seconds_count{pool="brain",kind="chat",outcome="succeeded"}') >= 1);
  });
});

describe("jobs survive a kill -9 of the coordinator", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "flotilla-jobs-restart-"));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test("jobs accepted before the kill all succeed after the restart", async () => {
    const model = await testModelPath();
    const first = await startFlotilla({ dataDir, args: ["--model", model, "--job-concurrency", "1"] });
    const ids: string[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const res = await post(`${first.url}/v1/jobs`, { kind: "chat", input: chatInput(`Story ${i}`, 24) }, first.adminKey);
        assert.equal(res.status, 202);
        ids.push(jobObject.parse(res.body).id);
      }
    } finally {
      first.child.kill("SIGKILL");
      await first.stop();
    }
    const second = await startFlotilla({ dataDir, args: ["--model", model, "--job-concurrency", "2"] });
    try {
      for (const id of ids) {
        const events = await followEvents(`${second.url}/v1/jobs/${id}/events`, second.adminKey);
        const last = events.at(-1)?.job;
        assert.equal(last?.state, "succeeded", `${id}: ${JSON.stringify(last)}`);
        assert.ok((last?.attempts ?? 0) >= 1 && (last?.attempts ?? 0) <= 2, "run once, or again after its lease was lost with the coordinator");
      }
    } finally {
      await second.stop();
    }
  });
});
