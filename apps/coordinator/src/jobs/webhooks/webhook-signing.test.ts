import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { signWebhook, webhookSecretFor } from "./webhook-signing.ts";

// The official client verifies Standard Webhooks as OpenAI sends them: ours must pass it.
const client = new OpenAI({ apiKey: "not-used" });

test("a signed webhook passes the openai client's own verification, and a changed body does not", async () => {
  const secret = webhookSecretFor("flt_webhook_master", "key:abc");
  const body = JSON.stringify({ id: "evt_1", object: "event", type: "job.succeeded", data: { id: "job_1" } });
  const headers = signWebhook(secret, { id: "evt_1", timestampS: Date.now() / 1000, body });
  assert.deepEqual(await client.webhooks.unwrap(body, headers, secret), JSON.parse(body));
  await assert.rejects(client.webhooks.verifySignature(body.replace("job_1", "job_2"), headers, secret), /signature does not match/);
});

test("each owner has its own secret, stable for one webhook key and changed with it", async () => {
  const a = webhookSecretFor("flt_webhook_master", "key:a");
  assert.equal(webhookSecretFor("flt_webhook_master", "key:a"), a);
  assert.notEqual(webhookSecretFor("flt_webhook_master", "key:b"), a);
  assert.notEqual(webhookSecretFor("flt_webhook_other", "key:a"), a);
  assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
  const body = "{}";
  const headers = signWebhook(webhookSecretFor("flt_webhook_master", "key:b"), { id: "evt_2", timestampS: Date.now() / 1000, body });
  await assert.rejects(client.webhooks.verifySignature(body, headers, a), /signature does not match/);
});

test("the timestamp header is whole Unix seconds, so an old replay is refused by the receiver", async () => {
  const secret = webhookSecretFor("m", "open");
  const headers = signWebhook(secret, { id: "evt_3", timestampS: 1_700_000_000.9, body: "{}" });
  assert.equal(headers["webhook-timestamp"], "1700000000");
  await assert.rejects(client.webhooks.verifySignature("{}", headers, secret), /too old/);
});
