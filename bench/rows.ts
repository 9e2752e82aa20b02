// Table rows of the gateway suites, from per-round figures: the median of
// the rounds, their min–max, and a verdict only where the issue sets a goal.
import type { BenchResult } from "./report.ts";
import type { VariantName } from "./rig.ts";
import { ratios, spread, times } from "./stats.ts";

/** A figure per round, for each variant measured. */
export type PerRound = Partial<Record<VariantName, number[]>>;

const PROXIES = ["nginx", "floor", "flotilla"] as const;

/** One row with the figure of nginx / the Node floor / flotilla; the goal, if any, judges flotilla's. */
export function proxiesRow(
  suite: string,
  name: string,
  perRound: PerRound,
  format: (n: number) => string,
  goal?: { text: string; ok: (flotilla: number) => boolean },
): BenchResult {
  const spreads = PROXIES.map((p) => {
    const values = perRound[p];
    return values === undefined ? undefined : spread(values);
  });
  const flotilla = spreads[2];
  return {
    suite,
    name: `${name} (nginx / floor / flotilla)`,
    value: spreads.map((s) => (s ? format(s.median) : "not measured")).join(" / "),
    range: spreads.map((s) => (s ? `${format(s.min)}–${format(s.max)}` : "—")).join(" / "),
    goal: goal?.text ?? "",
    met: goal && flotilla ? goal.ok(flotilla.median) : null,
  };
}

/** A figure shown for context. */
export function infoRow(suite: string, name: string, perRound: number[], format: (n: number) => string): BenchResult {
  const s = spread(perRound);
  return { suite, name, value: format(s.median), range: `${format(s.min)}–${format(s.max)}`, goal: "", met: null };
}

/** a ÷ b, round by round, against a ceiling; `missing` says why b was not measured. */
export function ratioRow(suite: string, name: string, a: number[] | undefined, b: number[] | undefined, limit: number, missing?: string): BenchResult {
  const goal = `≤ ${limit}×`;
  if (a === undefined || b === undefined) return { suite, name, value: `not measured: ${missing ?? "no data"}`, range: "", goal, met: null };
  const s = spread(ratios(a, b));
  return { suite, name, value: times(s.median), range: `${times(s.min)}–${times(s.max)}`, goal, met: s.median <= limit };
}

/** The per-round figures of every variant but direct, minus direct's in the same round. */
export function addedOver(direct: number[], perRound: PerRound): PerRound {
  const out: PerRound = {};
  for (const [name, values] of Object.entries(perRound) as Array<[VariantName, number[]]>) {
    if (name !== "direct") out[name] = values.map((v, i) => v - (direct[i] ?? Number.NaN));
  }
  return out;
}
