// What a split run (issue 12, the seed's load-balancer farm) does with its
// input, as pure functions: cut the text into chunks of lines, make each
// chunk's chat request from the prompt template, and join the chunks'
// answers in order. split-runner.ts does the I/O around them.
import { z } from "zod";
import type { SplitJobInput, SplitResult } from "@flotilla/protocol";

/**
 * The text in chunks of `chunkSize` lines, in order. A final newline ends the
 * last line rather than starting an empty one; blank lines inside count as
 * lines, so a chunk is always the lines it says.
 */
export function splitLines(commands: string, chunkSize: number): string[] {
  const lines = commands.replace(/\r\n/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const chunks: string[] = [];
  for (let i = 0; i < lines.length; i += chunkSize) chunks.push(lines.slice(i, i + chunkSize).join("\n"));
  return chunks;
}

/** The /v1 chat body that asks one chunk: the template with `{chunk}` replaced (every occurrence). */
export function chunkRequest(input: SplitJobInput, chunk: string): Record<string, unknown> {
  return {
    model: input.model,
    messages: [{ role: "user", content: input.prompt_template.replaceAll("{chunk}", chunk) }],
    ...(input.max_tokens === undefined ? {} : { max_tokens: input.max_tokens }),
  };
}

/** A finished chunk: its job and the chat.completion it answered with. */
export interface ChunkAnswer {
  jobId: string;
  response: unknown;
  nodes: string[];
}

/** The run's result from every chunk's answer, in chunk order. */
export function combineAnswers(model: string, answers: readonly ChunkAnswer[]): SplitResult {
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const chunks = answers.map((answer, index) => {
    const completion = asCompletion(answer.response);
    usage.prompt_tokens += completion.usage.prompt_tokens;
    usage.completion_tokens += completion.usage.completion_tokens;
    usage.total_tokens += completion.usage.total_tokens;
    return { index, job_id: answer.jobId, output: completion.text, nodes: answer.nodes };
  });
  return { object: "split.result", model, output: chunks.map((chunk) => chunk.output).join("\n"), chunks, usage };
}

// What is read of a stored chat.completion: our own runner wrote it, but a
// shape this code does not expect must cost the text, never the run.
const storedCompletion = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable().catch(null) }).catch({ content: null }) })).catch([]),
  usage: z
    .object({ prompt_tokens: z.number().catch(0), completion_tokens: z.number().catch(0), total_tokens: z.number().catch(0) })
    .catch({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }),
});

/** The text and usage of a stored chat.completion; what is missing counts as empty or zero. */
function asCompletion(response: unknown): { text: string; usage: SplitResult["usage"] } {
  const parsed = storedCompletion.safeParse(response);
  if (!parsed.success) return { text: "", usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
  return { text: parsed.data.choices[0]?.message.content ?? "", usage: parsed.data.usage };
}
