// Parsers for command-line option values, shared by every command.
import { InvalidArgumentError } from "commander";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const DURATION_HINT = "use a number and a unit: 500ms, 30s, 15m, 2h, 7d";

/** "15m", "1h", "30s", "500ms", "7d" → milliseconds; undefined when it is none of these. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  const unit = match?.[2];
  if (!match || unit === undefined) return undefined;
  return Number(match[1]) * (UNIT_MS[unit] ?? 1);
}

/** durationMs for flags like --ttl: commander shows the hint on a bad value. */
export function parseDurationMs(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new InvalidArgumentError(DURATION_HINT);
  return ms;
}

export function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InvalidArgumentError("use a whole number of at least 1");
  return Number(text);
}

/** For repeatable options (--model a --model b). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
