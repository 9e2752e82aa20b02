// Names that every other schema uses, kept apart so that any protocol file
// can import them without an import cycle (cluster.ts re-exports them).
import { z } from "zod";

export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const nodeName = z.string().regex(NODE_NAME, "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
export const poolName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "1-32 lower-case letters, digits, '_' or '-'");
