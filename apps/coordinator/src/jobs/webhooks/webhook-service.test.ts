// The webhook service over a real SQLite queue, sending to a real HTTP
// receiver on loopback through undici, with the node URL policy.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent } from "undici";
import OpenAI from "openai";
import { startWebhookReceiver } from "@flotilla/testkit";
import { SqliteJobQueue } from "../sqlite-job-queue.ts";
import type { Job } from "../job.ts";
import { NetworkAllowlist, resolveAndCheckNodeUrl } from "../../config/url-policy.ts";
import { WebhookService, type WebhookServiceOptions, type JobWebhookEvent } from "./webhook-service.ts";

const openai = new OpenAI({ apiKey: "not-used" });
const allowlist = NetworkAllowlist.default();
const verdictUnder = (list: NetworkAllowlist) => async (url: string) => {
  const checked = await resolveAndCheckNodeUrl(url, list);
  return checked.ok ? { ok: true as const } : { ok: false as const, reason: checked.reason, ...(checked.unresolved ? { unresolved: true as const } : {}) };
};
const checkUrl = verdictUnder(allowlist);
const worker = { workerId: "w", leaseMs: 60_000 };

async function setUp(t: TestContext) {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-webhooks-"));
  const queue = new SqliteJobQueue(path.join(dir, "jobs.db"));
  const dispatcher = new Agent();
  const warnings: { details: Record<string, unknown>; message: string }[] = [];
  const started: WebhookService[] = [];
  // Each recorded outcome, and who waits for one.
  const outcomes: { jobId: string; state: string }[] = [];
  const waiters: { want: (o: { jobId: string; state: string }) => boolean; resolve: () => void }[] = [];
  const settled = (jobId: string, state: "delivered" | "gave_up") =>
    outcomes.some((o) => o.jobId === jobId && o.state === state)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ want: (o) => o.jobId === jobId && o.state === state, resolve }));
  const service = (overrides: Partial<WebhookServiceOptions> = {}) => {
    const made = new WebhookService({
      file: path.join(dir, "webhooks.db"),
      queue,
      masterKey: "flt_webhook_test",
      dispatcher,
      render: (job) => Promise.resolve({ id: job.id, state: job.state }),
      checkUrl,
      log: { warn: (details, message) => warnings.push({ details, message }) },
      tickMs: 10,
      schedule: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 },
      onOutcome: (jobId, state) => {
        outcomes.push({ jobId, state });
        for (const waiter of waiters.filter((w) => w.want({ jobId, state }))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      },
      ...overrides,
    });
    made.start();
    started.push(made);
    return made;
  };
  t.after(async () => {
    for (const made of started) await made.stop();
    await queue.close();
    await dispatcher.close();
    await rm(dir, { recursive: true, force: true });
  });
  const submit = async (webhookUrl: string, owner = "key:one"): Promise<Job> => queue.enqueue({ kind: "chat", input: {}, owner, webhookUrl });
  const succeed = async (job: Job) => {
    const lease = await queue.lease({ pool: job.pool, kinds: ["chat"], ...worker });
    assert.equal(lease?.job.id, job.id);
    await queue.complete(job.id, lease.token, { answer: 42 });
  };
  return { queue, service, submit, succeed, warnings, settled };
}

test("a finished job's webhook is sent once, signed with its key's secret, as the openai client verifies it", async (t) => {
  const { service, submit, succeed, settled } = await setUp(t);
  const receiver = await startWebhookReceiver();
  t.after(() => receiver.close());
  const webhooks = service();
  const job = await submit(receiver.url);
  await webhooks.watch(job);
  await succeed(job);
  const [sent] = await receiver.waitFor(1);
  assert.ok(sent);
  await openai.webhooks.verifySignature(sent.body, sent.headers, webhooks.secretFor("key:one"));
  const event = JSON.parse(sent.body) as JobWebhookEvent;
  assert.equal(event.type, "job.succeeded");
  assert.equal(event.object, "event");
  assert.equal(sent.headers["webhook-id"], event.id);
  assert.deepEqual(event.data, { id: job.id, state: "succeeded" });
  await assert.rejects(openai.webhooks.verifySignature(sent.body, sent.headers, webhooks.secretFor("key:two")));
  await settled(job.id, "delivered");
  assert.equal(webhooks.delivery(job.id)?.attempts, 1);
});

test("a receiver that fails is sent the same event again until it answers 2xx", async (t) => {
  const { service, submit, succeed, settled } = await setUp(t);
  const receiver = await startWebhookReceiver((n) => (n < 3 ? 503 : 204));
  t.after(() => receiver.close());
  const webhooks = service();
  const job = await submit(receiver.url);
  await webhooks.watch(job);
  await succeed(job);
  const sent = await receiver.waitFor(3);
  assert.equal(new Set(sent.map((one) => one.headers["webhook-id"])).size, 1, "one event, sent three times");
  assert.equal(new Set(sent.map((one) => one.body)).size, 1);
  await settled(job.id, "delivered");
  assert.equal(webhooks.delivery(job.id)?.attempts, 3);
});

test("after the last attempt the delivery is given up and logged by host, never by its path", async (t) => {
  const { service, submit, succeed, warnings, settled } = await setUp(t);
  const receiver = await startWebhookReceiver(() => 500);
  t.after(() => receiver.close());
  const webhooks = service();
  const job = await submit(`${receiver.url}?token=receiver-secret`);
  await webhooks.watch(job);
  await succeed(job);
  await settled(job.id, "gave_up");
  assert.equal(receiver.received.length, 3);
  assert.equal(webhooks.delivery(job.id)?.lastError, "the receiver answered HTTP 500");
  const warning = warnings.find((one) => one.message === "gave up on a job's webhook");
  assert.equal(warning?.details.host, new URL(receiver.url).host);
  assert.doesNotMatch(JSON.stringify(warnings), /receiver-secret/);
});

test("a job that ends while the coordinator is down gets its webhook after the restart", async (t) => {
  const { service, submit, succeed } = await setUp(t);
  const receiver = await startWebhookReceiver();
  t.after(() => receiver.close());
  const before = service();
  const job = await submit(receiver.url);
  await before.watch(job);
  await before.stop();
  await succeed(job);
  assert.equal(receiver.received.length, 0);
  service();
  const [sent] = await receiver.waitFor(1);
  assert.equal((JSON.parse(sent?.body ?? "{}") as JobWebhookEvent).type, "job.succeeded");
});

test("a URL the policy refuses when it is due is given up without a request", async (t) => {
  const { service, submit, queue, settled } = await setUp(t);
  const receiver = await startWebhookReceiver();
  t.after(() => receiver.close());
  // This start's allowlist no longer takes loopback.
  const narrow = NetworkAllowlist.fromCidrs(["10.0.0.0/8"]);
  const webhooks = service({ checkUrl: verdictUnder(narrow) });
  const job = await submit(receiver.url);
  await webhooks.watch(job);
  await queue.cancel(job.id);
  await settled(job.id, "gave_up");
  assert.match(webhooks.delivery(job.id)?.lastError ?? "", /not allowed: 127\.0\.0\.1 is outside the allowed networks/);
  assert.equal(receiver.received.length, 0);
});

test("a name that does not resolve when the webhook is due is retried, not given up at once", async (t) => {
  const { service, submit, succeed, settled } = await setUp(t);
  const webhooks = service({ checkUrl: () => Promise.resolve({ ok: false, reason: "cannot resolve hooks.lan: EAI_AGAIN", unresolved: true }) });
  const job = await submit("http://hooks.lan/done");
  await webhooks.watch(job);
  await succeed(job);
  await settled(job.id, "gave_up");
  assert.equal(webhooks.delivery(job.id)?.attempts, 3, "every attempt of the schedule was made");
  assert.match(webhooks.delivery(job.id)?.lastError ?? "", /cannot resolve hooks\.lan/);
});

test("a job without a webhook, or made by the coordinator itself, owes none", async (t) => {
  const { service, queue } = await setUp(t);
  const webhooks = service();
  const plain = await queue.enqueue({ kind: "chat", input: {}, owner: "key:one" });
  await webhooks.watch(plain);
  const internal = await queue.enqueue({ kind: "chat", input: {}, webhookUrl: "http://127.0.0.1:9/hook" });
  await webhooks.watch(internal);
  assert.equal(webhooks.delivery(plain.id), null);
  assert.equal(webhooks.delivery(internal.id), null);
});
