// How `flotilla jobs` shows a job: table rows, the one-line progress of
// `watch`, the details of `show`, and the text of a finished job. Pure: the
// time is passed in. Everything from the coordinator goes through
// printable() (table() does it for cells) before it reaches a terminal.
import { isTerminalJobState, type JobObject } from "@flotilla/protocol";
import { printable } from "./printable.ts";

export const LIST_HEADER = ["ID", "KIND", "POOL", "STATE", "PROGRESS", "POSITION", "ATTEMPTS", "AGE"];

/** A table row for `jobs list`, under LIST_HEADER; `nowS` is the time in seconds. */
export function listRow(job: JobObject, nowS: number): string[] {
  return [
    job.id,
    job.kind,
    job.pool,
    job.state,
    job.progress === null ? "-" : percent(job.progress.fraction),
    job.position === null ? "-" : String(job.position),
    `${job.attempts}/${job.max_attempts}`,
    age(nowS - job.created_at),
  ];
}

/** 42 → "42s", 150 → "2m", 7200 → "2h", 3 days → "3d"; never negative (clocks differ). */
export function age(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function percent(fraction: number): string {
  return `${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

const BAR_WIDTH = 20;

/** `[#####     ]`: a succeeded job is full whatever it last reported, others show their progress. */
export function bar(job: JobObject, width = BAR_WIDTH): string {
  const fraction = job.state === "succeeded" ? 1 : (job.progress?.fraction ?? 0);
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${" ".repeat(width - filled)}]`;
}

/**
 * One line of `watch` for a job: its id, a bar, and what it is doing now
 * (its place in line, its progress message, or how it ended). Printable.
 */
export function watchLine(job: JobObject): string {
  const shown = job.state === "succeeded" ? "100%" : job.progress === null ? "-" : percent(job.progress.fraction);
  return printable(`${job.id} ${bar(job)} ${shown.padStart(4)} ${status(job)}`);
}

/** What a job is doing, in words. */
export function status(job: JobObject): string {
  switch (job.state) {
    case "queued": {
      const parts = [job.position === null ? null : `position ${job.position}`, job.eta_s === null ? null : `eta ${job.eta_s}s`].filter((p) => p !== null);
      const where = parts.length === 0 ? "queued" : `queued (${parts.join(", ")})`;
      return job.waiting_reason === null ? where : `${where}: ${job.waiting_reason}`;
    }
    case "leased":
    case "running": {
      const attempt = job.attempts > 1 ? ` (attempt ${job.attempts}/${job.max_attempts})` : "";
      const message = job.progress?.message ? `: ${job.progress.message}` : "";
      return `${job.state}${attempt}${message}`;
    }
    case "succeeded":
    case "cancelled":
      return job.state;
    case "failed":
    case "dead":
      return job.error === null ? job.state : `${job.state}: ${job.error.message}`;
  }
}

/** `jobs show`: one field a line. */
export function details(job: JobObject, nowS: number): string {
  const lines: [string, string][] = [
    ["id", job.id],
    ["kind", job.kind],
    ["pool", job.pool],
    ["priority", job.priority],
    ["state", status(job)],
    ["progress", job.progress === null ? "-" : `${percent(job.progress.fraction)}${job.progress.message ? ` ${job.progress.message}` : ""}`],
    ["position", job.position === null ? "-" : String(job.position)],
    ["eta", job.eta_s === null ? "-" : `${job.eta_s}s`],
    ["attempts", `${job.attempts}/${job.max_attempts}`],
    ["nodes", job.nodes.length === 0 ? "-" : job.nodes.join(", ")],
    ["created", `${new Date(job.created_at * 1000).toISOString()} (${age(nowS - job.created_at)} ago)`],
    ["updated", `${new Date(job.updated_at * 1000).toISOString()} (${age(nowS - job.updated_at)} ago)`],
    ["result", job.result_url ?? "-"],
  ];
  if (job.parent_id !== null) lines.push(["parent", job.parent_id]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${printable(v)}\n`).join("");
}

export function isDone(job: JobObject): boolean {
  return isTerminalJobState(job.state);
}

/**
 * A finished text job's answer as text, when it is the usual shape (a chat
 * message, a completion's text); null for anything else, which is shown as JSON.
 */
export function answerText(result: unknown): string | null {
  if (typeof result !== "object" || result === null || !("choices" in result) || !Array.isArray(result.choices)) return null;
  const first: unknown = result.choices[0];
  if (typeof first !== "object" || first === null) return null;
  if ("message" in first && typeof first.message === "object" && first.message !== null && "content" in first.message && typeof first.message.content === "string") {
    return first.message.content;
  }
  if ("text" in first && typeof first.text === "string") return first.text;
  return null;
}

/**
 * JSON for a terminal: as JSON.stringify writes it, with the controls it
 * leaves raw (DEL, C1 such as CSI 0x9b, line separators, bidi overrides)
 * written as \u escapes too. The same value, and nothing a terminal obeys.
 */
export function terminalJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}
