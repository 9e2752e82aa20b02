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

/**
 * Validates merged settings. Every problem is reported at once, one a line,
 * each naming its field and where it came from (the file and line, the
 * environment, the command line): fixing one mistake at a time, start after
 * start, is what a careless config file should not cost.
 */
export function validate<T extends z.ZodType>(
  schema: T,
  merged: Record<string, unknown>,
  origin: (key: string) => string,
  file: LoadedFile | undefined,
): z.infer<T> {
  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => problemsOf(issue, origin, file));
  if (problems.length === 0) throw new ConfigError("invalid configuration");
  throw new ConfigError(problems.join("\n"));
}

function problemsOf(issue: z.core.$ZodIssue, origin: (key: string) => string, file: LoadedFile | undefined): string[] {
  // An unknown key (`prot: 9999`) is an issue of the object that holds it:
  // each key gets a line of its own, placed where the key was written.
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return `${formatParam(path)}: not a setting here, maybe misspelt (from ${placeOf(path, origin, file)})`;
    });
  }
  return [`${formatParam(issue.path) || "config"}: ${issue.message} (from ${placeOf(issue.path, origin, file)})`];
}

function placeOf(path: readonly PropertyKey[], origin: (key: string) => string, file: LoadedFile | undefined): string {
  const where = origin(String(path[0] ?? ""));
  if (where !== "config file" || !file) return where;
  const line = file.lineOf(path);
  return `${file.file}${line ? `:${line}` : ""}`;
}
