// Part of the routing suite: what classifying one request costs, by prompt
// size (1 KB, 100 KB, 1 MB). Every request pays it before route(), on the
// request's path, and it used to grow with the prompt (0.3 ms at 100 KB);
// the heuristic now reads at most the first 8 KB and the last 2 KB of the
// ask, so 1 MB should cost what 100 KB does. Each prompt is a document with a
// short ask at both ends ("Summarise this report: … What is the main
// finding?"), the shape the cost bound is about. Timed one call at a time
// (hrtime.bigint, ~0.05 µs of its own): classifierInputOf (the token
// estimate) and the heuristic's classify(), as Router.plan() calls them.
// Rounds alternate the sizes; rows show the median of per-round p50/p99.
import type { GenerationRequest } from "@flotilla/protocol";
import { classifierInputOf, heuristicClassifier } from "@flotilla/coordinator/routing";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";
import { quantile, ratios, spread, times } from "./stats.ts";

const SUITE = "routing";
const SIZES = [{ label: "1 KB", bytes: 1024 }, { label: "100 KB", bytes: 100 * 1024 }, { label: "1 MB", bytes: 1024 * 1024 }] as const;
const SETTINGS = {
  smoke: { rounds: 1, calls: 300, warm: 300 },
  quick: { rounds: 5, calls: 20_000, warm: 5_000 },
  full: { rounds: 10, calls: 50_000, warm: 10_000 },
} as const;
/** 1 MB may cost at most this much more than 100 KB: both read the same 10 KB. */
const GOAL_RATIO = 1.5;

const us = (value: number): string => (Number.isNaN(value) ? "n/a" : `${(value * 1000).toFixed(2)} µs`);

const PARAGRAPHS = [
  "The committee met on Tuesday to review the budget for the next quarter. Spending on hardware was twelve percent over plan because two power supplies failed.",
  "Across five model families we measure perplexity, latency per token and memory use; the loss in quality is concentrated in long-range reasoning tasks.",
  "Either party may end the agreement with ninety days of written notice, except during the first year, when termination requires a material breach.",
  "At 09:12 the error rate on checkout rose from 0.1 percent to 38 percent, and at 10:31 the rollback of the payment service finished.",
];

function prompt(bytes: number): GenerationRequest {
  const start = "Summarise this report:\n\n";
  const end = "\n\nWhat is the main finding?";
  const body: string[] = [];
  let size = start.length + end.length;
  for (let i = 0; size < bytes; i++) {
    const paragraph = PARAGRAPHS[i % PARAGRAPHS.length] ?? "";
    body.push(paragraph);
    size += paragraph.length + 2;
  }
  const content = `${start}${body.join("\n\n")}${end}`;
  return {
    model: "auto",
    input: { kind: "chat", messages: [{ role: "user", content }] },
    params: { maxTokens: undefined, temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
  };
}

/** Per-call times in ms. */
function timeClassify(generation: GenerationRequest, calls: number): number[] {
  const out = new Array<number>(calls);
  let sink = 0;
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    const answer = heuristicClassifier.classify(classifierInputOf(generation));
    out[i] = Number(process.hrtime.bigint() - start) / 1e6;
    sink += answer.reason.length;
  }
  if (sink === 0) throw new Error("classify bench: no reasons at all");
  return out;
}

export function classifyCost(mode: Mode): BenchResult[] {
  const s = SETTINGS[mode];
  const prompts = SIZES.map((size) => prompt(size.bytes));
  for (const generation of prompts) timeClassify(generation, s.warm);
  const p50: number[][] = SIZES.map(() => []);
  const p99: number[][] = SIZES.map(() => []);
  for (let r = 0; r < s.rounds; r++) {
    prompts.forEach((generation, i) => {
      const round = timeClassify(generation, s.calls);
      p50[i]?.push(quantile(round, 0.5));
      p99[i]?.push(quantile(round, 0.99));
    });
  }
  const results: BenchResult[] = [];
  SIZES.forEach((size, i) => {
    results.push(infoRow(SUITE, `classify a ${size.label} prompt: p50`, p50[i] ?? [], us));
    results.push(infoRow(SUITE, `classify a ${size.label} prompt: p99`, p99[i] ?? [], us));
  });
  const ratio = spread(ratios(p50[2] ?? [], p50[1] ?? []));
  results.push({
    suite: SUITE,
    name: "classify p50 at 1 MB ÷ p50 at 100 KB (the cost does not grow with the prompt)",
    value: times(ratio.median),
    range: `${times(ratio.min)}–${times(ratio.max)}`,
    goal: `≤ ${GOAL_RATIO}×`,
    met: ratio.median <= GOAL_RATIO,
  });
  return results;
}
