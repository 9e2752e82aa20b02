// Reading a config file into a plain object, with errors that point at the
// line. YAML is a superset of JSON, so one parser reads both. Lives in the
// coordinator because both the CLI's settings and the cluster file use it.
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { formatParam } from "@flotilla/protocol";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface LoadedFile {
  file: string;
  data: Record<string, unknown>;
  /** 1-based line of the value at a path, for error messages. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export async function loadConfigFile(file: string): Promise<LoadedFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const first = doc.errors[0];
  if (first) throw new ConfigError(`config file ${file}: ${first.message}`);
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${file}: the top level must be a mapping of settings`);
  }
  return {
    file,
    data: data as Record<string, unknown>,
    lineOf(path) {
      const node = doc.getIn(path.map(String), true) as { range?: [number, number, number] } | undefined;
      const offset = node?.range?.[0];
      return offset === undefined ? undefined : lineCounter.linePos(offset).line;
    },
  };
}

/** Validates merged settings; the first problem names its field and where it came from. */
export function validate<T extends z.ZodType>(
  schema: T,
  merged: Record<string, unknown>,
  origin: (key: string) => string,
  file: LoadedFile | undefined,
): z.infer<T> {
  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ConfigError("invalid configuration");
  const key = String(issue.path[0] ?? "");
  const where = origin(key);
  const line = where === "config file" && file ? file.lineOf(issue.path) : undefined;
  const place = where === "config file" && file ? `${file.file}${line ? `:${line}` : ""}` : where;
  throw new ConfigError(`${formatParam(issue.path) || "config"}: ${issue.message} (from ${place})`);
}
