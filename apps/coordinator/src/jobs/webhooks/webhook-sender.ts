// One send of a webhook: a POST of the stored body, signed, over the
// coordinator's node connections, whose lookup re-checks every resolved
// address against the network allowlist at connect time. undici's request()
// follows no redirect, so a receiver cannot bounce the coordinator to an
// address the policy refuses. A receiver's answer is never read beyond its
// status: it may be any internal server (ADR 0025).
import { request, type Dispatcher } from "undici";
import { signWebhook } from "./webhook-signing.ts";

export type SendOutcome = { ok: true } | { ok: false; error: string };

export interface SendOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  nowMs: number;
  /** Aborts the send (the coordinator stops). */
  signal: AbortSignal;
}

export async function sendWebhook(
  message: { url: string; eventId: string; body: string; secret: string },
  options: SendOptions,
): Promise<SendOutcome> {
  const signed = signWebhook(message.secret, { id: message.eventId, timestampS: options.nowMs / 1000, body: message.body });
  try {
    const response = await request(message.url, {
      method: "POST",
      dispatcher: options.dispatcher,
      headers: { "content-type": "application/json", "user-agent": "flotilla-webhooks/1", ...signed },
      body: message.body,
      signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.signal]),
    });
    // Drained, so the connection goes back to the pool.
    await response.body.dump();
    if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true };
    return { ok: false, error: `the receiver answered HTTP ${response.statusCode}` };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return { ok: false, error: timedOut ? `no answer within ${options.timeoutMs / 1000} s` : `could not reach the receiver: ${(err as Error).message}` };
  }
}
