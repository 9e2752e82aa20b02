// How a webhook proves it came from this coordinator (docs/adr/0036). The
// format is Standard Webhooks (standardwebhooks.com), the one OpenAI's own
// webhooks use, so a client verifies ours with code it already has, such as
// the openai package's `client.webhooks.unwrap()`: headers `webhook-id`,
// `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64>`, the
// HMAC-SHA256 of `<id>.<timestamp>.<body>` under the secret's bytes.
//
// Each key has its own secret, derived from the coordinator's webhook key
// (webhook.key in the data directory) and the key's owner id: nothing per key
// is stored, and one key's secret tells nothing about another's.
import { createHmac } from "node:crypto";

const SECRET_PREFIX = "whsec_";

/** The secret that signs the webhooks of one owner (`key:<hash>`, `admin`, `open`). */
export function webhookSecretFor(masterKey: string, owner: string): string {
  const bytes = createHmac("sha256", masterKey).update(`flotilla webhook secret\n${owner}`).digest();
  return SECRET_PREFIX + bytes.toString("base64");
}

export type SignedHeaders = Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string>;

/** The headers that sign `body` (the exact bytes sent) as message `id` at `timestampS`. */
export function signWebhook(secret: string, message: { id: string; timestampS: number; body: string }): SignedHeaders {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  const timestamp = String(Math.floor(message.timestampS));
  const signature = createHmac("sha256", key).update(`${message.id}.${timestamp}.${message.body}`).digest("base64");
  return { "webhook-id": message.id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}
