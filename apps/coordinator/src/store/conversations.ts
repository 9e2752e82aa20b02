// Conversations of /cluster/execute (api/execute-routes.ts): nodes are
// stateless, so the turns live here and are sent whole with each query.
// Each conversation belongs to the caller that started it (its owner, see
// api/conversation-owner.ts): every read and write names the owner, and a
// conversation of another owner answers as if it did not exist.
import type { ChatTurn } from "@flotilla/protocol";

export interface Conversations {
  /** Resolves false, storing nothing, when the id is already taken (by any owner). */
  create(id: string, owner: string, nowMs: number): Promise<boolean>;
  /** The last `limit` turns, oldest first; null when `owner` has no conversation with the id. */
  turns(id: string, owner: string, limit: number): Promise<ChatTurn[] | null>;
  /**
   * Appends the turns after the stored ones, in order, all or none; turns
   * appended at once stay together even when appends race. Resolves false,
   * storing nothing, when `owner` has no conversation with the id.
   */
  append(id: string, owner: string, turns: readonly ChatTurn[], nowMs: number): Promise<boolean>;
  /** Deletes the conversation and its turns; `owner` undefined: whoever owns it (the admin). False when there was none. */
  remove(id: string, owner: string | undefined): Promise<boolean>;
  /** Deletes every conversation last written before `cutoffMs`, with its turns; resolves how many. */
  removeIdleSince(cutoffMs: number): Promise<number>;
}
