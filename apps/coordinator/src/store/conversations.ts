// Conversations of /cluster/execute (api/execute-routes.ts): nodes are
// stateless, so the turns live here and are sent whole with each query.
import type { ChatTurn } from "@flotilla/protocol";

export interface Conversations {
  /** Resolves false, storing nothing, when the id is already taken. */
  create(id: string, nowMs: number): Promise<boolean>;
  /** The last `limit` turns, oldest first; null when no conversation has the id. */
  turns(id: string, limit: number): Promise<ChatTurn[] | null>;
  /**
   * Appends the turns after the stored ones, in order, all or none; turns
   * appended at once stay together even when appends race. Resolves false,
   * storing nothing, when no conversation has the id.
   */
  append(id: string, turns: readonly ChatTurn[], nowMs: number): Promise<boolean>;
}
