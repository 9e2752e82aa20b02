// Shared by the coordinator and the agent, which must not import each other.
// Secrets are 32 random bytes with a readable prefix. They are stored as
// sha256 hashes: with 256 bits of entropy a slow password hash adds nothing,
// and a fast hash keeps the per-request check cheap (docs/adr/0006).
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export type SecretKind = "api" | "admin" | "join" | "node" | "cluster" | "webhook";

const PREFIX: Record<SecretKind, string> = {
  api: "flt_",
  admin: "flt_admin_",
  join: "flt_join_",
  node: "flt_node_",
  cluster: "flt_cluster_",
  webhook: "flt_webhook_",
};

export function generateSecret(kind: SecretKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(a), "hex"), Buffer.from(hashSecret(b), "hex"));
}

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The credential the coordinator presents to one agent, derived from the
 * cluster secret: nothing usable is stored per node, and it survives restarts.
 */
export function deriveCoordinatorCredential(clusterSecret: string, nodeId: string): string {
  return `flt_coord_${createHmac("sha256", clusterSecret).update(nodeId).digest("base64url")}`;
}
