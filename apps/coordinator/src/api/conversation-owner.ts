// Who owns a conversation of /cluster/execute (docs/adr/0026). The caller has
// already passed the client-key check (app.ts); this only names it. A key is
// named by its sha256, never by the key itself, as the store keeps keys
// (docs/adr/0006), so a copied data directory still grants nothing.
import { hashSecret } from "@flotilla/security";

export interface Caller {
  /** What the conversation records as its owner. */
  owner: string;
  /** The admin key: may delete any conversation (it still continues only its own). */
  admin: boolean;
}

/** While no API key exists everyone is the same caller, so open mode has one owner. */
export const OPEN_MODE_OWNER = "open";
export const ADMIN_OWNER = "admin";

export interface CallerFacts {
  /** Whether client keys are required (at least one exists). */
  keysRequired: boolean;
  /** The bearer token sent, if any; already checked as valid when keys are required. */
  token: string | undefined;
  isAdminKey: (token: string) => boolean;
}

export function callerOf(facts: CallerFacts): Caller {
  const admin = facts.token !== undefined && facts.isAdminKey(facts.token);
  if (!facts.keysRequired || facts.token === undefined) return { owner: OPEN_MODE_OWNER, admin };
  if (admin) return { owner: ADMIN_OWNER, admin: true };
  return { owner: `key:${hashSecret(facts.token)}`, admin: false };
}
