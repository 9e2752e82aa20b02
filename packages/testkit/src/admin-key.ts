// An admin key for a test or benchmark coordinator: labelled, so a leaked
// process is recognisable, and random enough that the coordinator's strength
// check (at least 32 characters, 128 bits) accepts it.
import { randomBytes } from "node:crypto";

export function testAdminKey(label: string): string {
  return `flt_admin_${label}_${randomBytes(16).toString("hex")}`;
}
