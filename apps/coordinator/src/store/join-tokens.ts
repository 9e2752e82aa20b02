// Join tokens (nodes/agent/membership.ts): kept as sha256 only, spent one use per
// agent that joins with one.

export interface JoinTokenRecord {
  id: string;
  expiresAtMs: number;
  /** How many more agents may join with it. */
  usesLeft: number;
  createdAtMs: number;
}

export interface JoinTokens {
  /** `hash` is the token's sha256; the token itself is never stored. */
  add(record: JoinTokenRecord, hash: string): Promise<void>;
  /**
   * Spends one use of the token with this hash if it exists, has uses left
   * and has not expired at `nowMs` (it expires at `expiresAtMs`). Atomic: two
   * agents racing for the last use cannot both win.
   */
  spend(hash: string, nowMs: number): Promise<boolean>;
  /** Whether the token could be spent at `nowMs`, without spending it. */
  usable(hash: string, nowMs: number): Promise<boolean>;
}
