// Small statistics for the timing suites: quantiles of one round, and the
// median with min–max across rounds that every timing row reports.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Nearest-rank quantile; Infinity marks a request never answered in time. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** Median of the per-round figures, with their min and max; rounds with no figure (NaN) left out. */
export function spread(perRound: readonly number[]): Spread {
  const known = perRound.filter((v) => !Number.isNaN(v));
  return { median: quantile(known, 0.5), min: quantile(known, 0), max: quantile(known, 1) };
}

/**
 * a ÷ b per round. A denominator under 1 µs (b adds nothing measurable) or a
 * numerator never answered gives ∞, which counts against a ceiling.
 */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => {
    const y = b[i] ?? Number.NaN;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
    if (y === Number.POSITIVE_INFINITY) return x === Number.POSITIVE_INFINITY ? Number.NaN : 0;
    return y >= 0.001 ? x / y : Number.POSITIVE_INFINITY;
  });
}

/** Milliseconds, shown as µs below 1 ms; `signed` puts + on added time. */
export function ms(value: number, signed = false): string {
  if (Number.isNaN(value)) return "n/a";
  if (!Number.isFinite(value)) return "not answered";
  const sign = signed && value >= 0 ? "+" : "";
  const abs = Math.abs(value);
  return abs < 1 ? `${sign}${Math.round(value * 1000)} µs` : `${sign}${value.toFixed(abs < 10 ? 2 : 1)} ms`;
}

export function times(value: number): string {
  if (Number.isNaN(value)) return "n/a";
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "∞";
}
