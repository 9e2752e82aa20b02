// A supervised program's health URL: asked once (health()), or asked until
// it answers 2xx while the program starts (provision()).
import { setTimeout as delay } from "node:timers/promises";

/** One question takes at most this long: a program that hangs is not healthy. */
const ASK_TIMEOUT_MS = 2_000;
/** Between two questions while a program starts. */
const POLL_MS = 100;

export type HealthAnswer = { ok: true } | { ok: false; message: string };

export async function askHealth(url: string, signal?: AbortSignal): Promise<HealthAnswer> {
  const timeout = AbortSignal.timeout(ASK_TIMEOUT_MS);
  try {
    // Never follows a redirect: the URL is on loopback by configuration and must stay there.
    const response = await fetch(url, { redirect: "manual", signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    await response.body?.cancel();
    return response.ok ? { ok: true } : { ok: false, message: `${url} answered ${response.status}` };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    return { ok: false, message: `${url} did not answer: ${cause}` };
  }
}

export interface WaitOptions {
  timeoutMs: number;
  /** Aborts the wait: the caller's signal. */
  signal: AbortSignal;
  /** Aborted (with the reason as an Error) when waiting can no longer succeed: the program exited. */
  gaveUp: AbortSignal;
}

/** Resolves at the first 2xx; rejects with the signal's reason, the give-up reason, or a timeout naming the last answer. */
export async function waitUntilHealthy(url: string, options: WaitOptions): Promise<void> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const ended = AbortSignal.any([options.signal, options.gaveUp, deadline]);
  let last: { ok: false; message: string } = { ok: false, message: "not asked yet" };
  try {
    for (;;) {
      const answer = await askHealth(url, ended);
      if (answer.ok) return;
      ended.throwIfAborted();
      last = answer;
      await delay(POLL_MS, undefined, { signal: ended });
    }
  } catch (err) {
    options.signal.throwIfAborted();
    options.gaveUp.throwIfAborted();
    if (deadline.aborted) throw new Error(`not healthy within ${options.timeoutMs} ms (${last.message})`, { cause: err });
    throw err;
  }
}
