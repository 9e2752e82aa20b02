// What `flotilla jobs submit` sends: the body of POST /v1/jobs, built from
// its flags. Either the whole input as JSON (--input, or --input-file's text)
// or a prompt that each kind puts where its input schema wants it. Pure: the
// caller reads the file. A wrong combination is a UsageError (exit 2); the
// coordinator still checks the input against the kind's schema.
import { jobSubmitRequest, type JobKind, type JobPriority, type JobSubmitRequest } from "@flotilla/protocol";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface SubmitFlags {
  kind: JobKind;
  model?: string;
  prompt?: string;
  maxTokens?: number;
  pool?: string;
  priority?: JobPriority;
  /** The input as JSON: --input, or the text of --input-file. */
  inputJson?: string;
  /** Where inputJson came from, for messages: `--input` or `--input-file F`. */
  inputSource?: string;
  idempotencyKey?: string;
  maxAttempts?: number;
  webhook?: string;
}

/** The model a text job asks for when none is named: any the cluster serves, as `flotilla chat` does. */
const ANY_MODEL = "auto";

export function submitBody(flags: SubmitFlags): JobSubmitRequest {
  const input = flags.inputJson === undefined ? inputFromPrompt(flags) : parsedInput(flags);
  const body = {
    kind: flags.kind,
    input,
    ...(flags.pool === undefined ? {} : { pool: flags.pool }),
    ...(flags.priority === undefined ? {} : { priority: flags.priority }),
    ...(flags.idempotencyKey === undefined ? {} : { idempotency_key: flags.idempotencyKey }),
    ...(flags.maxAttempts === undefined ? {} : { max_attempts: flags.maxAttempts }),
    ...(flags.webhook === undefined ? {} : { webhook: flags.webhook }),
  };
  // The same schema the coordinator applies: a bad pool name or URL is said here, before anything is sent.
  const parsed = jobSubmitRequest.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const flag = issue === undefined ? "" : FLAG_OF[String(issue.path[0])] ?? String(issue.path[0]);
  throw new UsageError(`${flag}: ${issue?.message ?? "not valid"}`);
}

const FLAG_OF: Record<string, string> = {
  pool: "--pool",
  priority: "--priority",
  idempotency_key: "--idempotency-key",
  max_attempts: "--max-attempts",
  webhook: "--webhook",
};

function parsedInput(flags: SubmitFlags): unknown {
  const source = flags.inputSource ?? "--input";
  for (const [name, value] of [["--prompt", flags.prompt], ["--model", flags.model], ["--max-tokens", flags.maxTokens]] as const) {
    if (value !== undefined) throw new UsageError(`${name} and ${source} do not go together: put it in the input JSON`);
  }
  try {
    const value: unknown = JSON.parse(flags.inputJson ?? "");
    return value;
  } catch (err) {
    throw new UsageError(`${source} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The kind's input from --prompt (and --model, --max-tokens where the kind has them). */
function inputFromPrompt(flags: SubmitFlags): unknown {
  const { kind, prompt, model, maxTokens } = flags;
  if (prompt === undefined) throw new UsageError(`give --prompt, or the whole input with --input JSON or --input-file F.json`);
  const tokens = maxTokens === undefined ? {} : { max_tokens: maxTokens };
  const noTokens = (why: string) => {
    if (maxTokens !== undefined) throw new UsageError(`--max-tokens does not apply to ${kind} jobs: ${why}`);
  };
  switch (kind) {
    case "chat":
      return { model: model ?? ANY_MODEL, messages: [{ role: "user", content: prompt }], ...tokens };
    case "completion":
      return { model: model ?? ANY_MODEL, prompt, ...tokens };
    case "embedding":
      noTokens("an embedding has no answer to cut");
      return { model: model ?? ANY_MODEL, input: prompt };
    case "image":
    case "video":
    case "music":
      noTokens("it makes no text");
      return { prompt, ...(model === undefined ? {} : { model }) };
    case "speech":
      noTokens("it makes no text");
      return { input: prompt, ...(model === undefined ? {} : { model }) };
    case "split":
    case "transcription":
      throw new UsageError(`a ${kind} job's input has more than a prompt: give it with --input JSON or --input-file F.json`);
  }
}
