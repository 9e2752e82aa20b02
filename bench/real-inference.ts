// Issue 5, item 3: real inference. Tokens per second of the test model
// (stories260K, llama.cpp through node-llama-cpp) through flotilla, against
// the same backend called directly, one stream at a time and 8 at once.
//
// What "directly" means here: the bench process itself loads the model with
// the agent's own backend code (apps/agent's LlamaCppBackend, through
// loadLlamaCpp()), with the settings the agent is started with (llama.cpp
// threads, context size, one sequence per slot), and calls generate() on it:
// no HTTP, no JSON, no process boundary: the floor any server on this
// backend could reach. Through flotilla is the whole path a user gets: a
// `flotilla coordinator` and a separate `flotilla agent --join …` serving the
// model, the client (the `openai` package) calling the coordinator's
// /v1/chat/completions, which calls the agent over HTTP (NDJSON). Both get
// the same chat requests, temperature 0 and a fixed seed, the same
// max_tokens, so they generate the same tokens.
//
// Tokens per second = completion tokens (as each side reports them) over the
// wall time from the first request sent to the last answer. Rounds alternate
// direct and flotilla; each row is the ratio flotilla ÷ direct, round by
// round: the median of the rounds with their min–max. The llama.cpp thread
// count is set explicitly (1, as ../shared/models/README.md advises on a
// small machine): both sides compute on one core, and flotilla's own work
// (coordinator, the agent's HTTP side, the client) runs beside it.
import OpenAI from "openai";
import { loadLlamaCpp } from "@flotilla/agent";
import { generationResultOf, type GenerationRequest } from "@flotilla/protocol";
import { startFlotilla, testAdminKey, testModelPath, TEST_MODEL_ID, type FlotillaProcess } from "@flotilla/testkit";
import { joinToken, waitForModel } from "./cluster.ts";
import type { BenchResult, Mode } from "./report.ts";
import { infoRow } from "./rows.ts";
import { spread, times } from "./stats.ts";

const SUITE = "real inference";
const THREADS = 1;
const CONCURRENT = 8;
/** The agent's default context; capped at the model's 512 on both sides. */
const CONTEXT_SIZE = 4096;
const GOAL = 0.98;
const SETTINGS = {
  smoke: { rounds: 1, maxTokens: 16, single: 1, perStream: 1 },
  quick: { rounds: 5, maxTokens: 200, single: 4, perStream: 2 },
  full: { rounds: 10, maxTokens: 400, single: 8, perStream: 4 },
} as const;
const PROMPTS = ["Tell me a story about a cat.", "Once upon a time", "Lily went to the park.", "Tom had a red ball."];

/** Runs one chat request; resolves to its completion tokens. */
type Generate = (prompt: string, maxTokens: number) => Promise<number>;
interface Side {
  name: "direct" | "flotilla";
  generate: Generate;
}

export async function realInference(mode: Mode): Promise<BenchResult[]> {
  const s = SETTINGS[mode];
  const modelPath = await testModelPath();
  const stops: Array<() => Promise<void>> = [];
  try {
    // Started side by side (start-up is most of a smoke run); each stops what it started.
    const [direct, flotilla] = await Promise.allSettled([startDirect(modelPath), startThroughFlotilla(modelPath)]);
    for (const started of [direct, flotilla]) if (started.status === "fulfilled") stops.push(started.value.stop);
    if (direct.status === "rejected") throw direct.reason;
    if (flotilla.status === "rejected") throw flotilla.reason;
    const sides = [direct.value.side, flotilla.value.side];

    // Warm-up, nothing kept: one request, then every sequence once. It also
    // checks that both sides generate as many tokens for the same request.
    const counts = await Promise.all(sides.map((side) => side.generate(PROMPTS[0] ?? "", s.maxTokens)));
    if (counts[0] !== counts[1]) process.stderr.write(`real inference: direct gave ${counts[0]} tokens, flotilla ${counts[1]}, for the same request\n`);
    for (const side of sides) await tokensPerSecond(side.generate, CONCURRENT, 1, s.maxTokens);

    const perRound = { single: { direct: [] as number[], flotilla: [] as number[] }, concurrent: { direct: [] as number[], flotilla: [] as number[] } };
    for (let r = 0; r < s.rounds; r++) {
      for (const side of sides) perRound.single[side.name].push(await tokensPerSecond(side.generate, 1, s.single, s.maxTokens));
      for (const side of sides) perRound.concurrent[side.name].push(await tokensPerSecond(side.generate, CONCURRENT, s.perStream, s.maxTokens));
    }
    const perS = (n: number) => `${n.toFixed(0)} tokens/s`;
    const rows: BenchResult[] = [];
    for (const [label, figures] of [["1 stream", perRound.single], [`${CONCURRENT} concurrent streams`, perRound.concurrent]] as const) {
      rows.push(
        infoRow(SUITE, `${label}: direct (node-llama-cpp in the bench process)`, figures.direct, perS),
        infoRow(SUITE, `${label}: through flotilla (coordinator + agent)`, figures.flotilla, perS),
        ratioAtLeast(`${label}: flotilla ÷ direct, tokens/s`, figures.flotilla, figures.direct),
      );
    }
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/** `streams` clients, each sending `each` requests one after another; all completion tokens over the wall time. */
async function tokensPerSecond(generate: Generate, streams: number, each: number, maxTokens: number): Promise<number> {
  const start = performance.now();
  const tokens = await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      let sum = 0;
      for (let j = 0; j < each; j++) sum += await generate(PROMPTS[(i + j) % PROMPTS.length] ?? "", maxTokens);
      return sum;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return tokens.reduce((a, b) => a + b, 0) / seconds;
}

function ratioAtLeast(name: string, a: number[], b: number[]): BenchResult {
  const s = spread(a.map((x, i) => x / (b[i] ?? Number.NaN)));
  return { suite: SUITE, name, value: times(s.median), range: `${times(s.min)}–${times(s.max)}`, goal: `≥ ${GOAL}×`, met: s.median >= GOAL };
}

/** The agent's backend, loaded in this process as the agent loads it (apps/cli's serve-models.ts). */
async function startDirect(modelPath: string): Promise<{ side: Side; stop: () => Promise<void> }> {
  const { startLlamaRuntime, loadLlamaModel } = await loadLlamaCpp();
  const llama = await startLlamaRuntime({ gpu: "auto", threads: THREADS });
  const backend = await loadLlamaModel(llama, {
    modelId: TEST_MODEL_ID,
    path: modelPath,
    parallelSequences: CONCURRENT,
    contextSize: CONTEXT_SIZE,
    threads: THREADS,
  });
  const generate: Generate = async (prompt, maxTokens) => {
    // What the coordinator's translate.ts makes of the chat request flotilla gets.
    const request: GenerationRequest = {
      model: TEST_MODEL_ID,
      input: { kind: "chat", messages: [{ role: "user", content: prompt }] },
      params: { maxTokens, temperature: 0, topP: undefined, seed: 1, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
    };
    // The agent streams every piece of text to the coordinator: so does this, to nothing.
    const result = generationResultOf(await backend.run(request, { signal: new AbortController().signal, onChunk: () => undefined }));
    return result.completionTokens;
  };
  return {
    side: { name: "direct", generate },
    stop: async () => {
      await backend.dispose();
      await llama.dispose();
    },
  };
}

async function startThroughFlotilla(modelPath: string): Promise<{ side: Side; stop: () => Promise<void> }> {
  const adminKey = testAdminKey(`bench_${process.pid}_inference`);
  const env = { FLOTILLA_ADMIN_KEY: adminKey, FLOTILLA_DISCOVERY: "explicit" };
  const started: FlotillaProcess[] = [];
  const stop = async () => {
    for (const p of started.reverse()) await p.stop();
  };
  try {
    const coordinator = await startFlotilla({ command: "coordinator", env });
    started.push(coordinator);
    const token = await joinToken(coordinator.url, adminKey, 1);
    const agent = await startFlotilla({
      command: "agent",
      env,
      args: [
        "--join", coordinator.url, "--token", token, "--name", "bench-inference",
        "--model", modelPath, "--threads", String(THREADS), "--slots", String(CONCURRENT), "--ctx-size", String(CONTEXT_SIZE), "--gpu", "auto",
      ],
    });
    started.push(agent);
    await waitForModel(coordinator.url, adminKey, TEST_MODEL_ID);
    const client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: adminKey, maxRetries: 0 });
    const generate: Generate = async (prompt, maxTokens) => {
      const answer = await client.chat.completions.create({
        model: TEST_MODEL_ID,
        messages: [{ role: "user", content: prompt }],
        max_tokens: maxTokens,
        temperature: 0,
        seed: 1,
      });
      return answer.usage?.completion_tokens ?? 0;
    };
    return { side: { name: "flotilla", generate }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
