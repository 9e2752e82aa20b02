// Retention of /cluster/execute's conversations: one idle for longer than the
// TTL (since its last turn, docs/adr/0026) is deleted. The sweep runs on the
// request path rather than on a timer, so a coordinator with no traffic does
// no work: before every lookup, so an expired conversation is never continued,
// and otherwise at most once a minute, so new conversations alone cannot
// make the store grow without end.
import type { Conversations } from "../store/conversations.ts";

export const DEFAULT_CONVERSATION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const IDLE_SWEEP_EVERY_MS = 60_000;

export class ConversationRetention {
  readonly #conversations: Conversations;
  readonly #ttlMs: number;
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(conversations: Conversations, ttlMs: number) {
    this.#conversations = conversations;
    this.#ttlMs = ttlMs;
  }

  /** Deletes what has expired at `nowMs`; `beforeLookup`: always, else only when a sweep is due. */
  async sweep(nowMs: number, beforeLookup: boolean): Promise<void> {
    if (!beforeLookup && nowMs - this.#lastSweepMs < IDLE_SWEEP_EVERY_MS) return;
    this.#lastSweepMs = nowMs;
    await this.#conversations.removeIdleSince(nowMs - this.#ttlMs);
  }
}
