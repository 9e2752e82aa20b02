// `flotilla chat`: talk to the cluster through its OpenAI-compatible /v1 with
// the official OpenAI SDK, the same path users' own programs take. One prompt
// (from the arguments, or from stdin when it is piped) is answered as it
// streams; on a terminal, a conversation is kept in memory and sent whole each
// turn, since nodes keep no state between requests.
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline/promises";
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from "openai";
import { errorAnswer } from "@flotilla/protocol";
import { CliError, type ClientTarget } from "../client.ts";
import { printable } from "../printable.ts";

export interface ChatFlags {
  tier?: "0" | "1" | "2";
  /** False with --no-tier-fallback: only the forced tier may answer. */
  tierFallback: boolean;
  model?: string;
  session?: string;
  maxTokens?: number;
  apiKey?: string;
  showRoute?: boolean;
}

interface Turn {
  role: "user" | "assistant";
  content: string;
}

/**
 * /v1 requires a model name; "auto" lets the router pick any served model.
 * (A coordinator's configured default model applies only to requests that
 * name none, which the OpenAI body cannot express.)
 */
const ANY_MODEL = "auto";
const ROUTE_HEADERS = ["x-flotilla-node", "x-flotilla-tier", "x-flotilla-route"] as const;
/** Sent when no key is found: /v1 needs none until the first client key exists. */
const NO_KEY = "none";

export async function runChat(target: ClientTarget, env: NodeJS.ProcessEnv, words: string[], flags: ChatFlags): Promise<void> {
  // A client key only: the admin key is for the cluster API, and chat may be
  // pointed at any URL (ADR 0025). Without one, chat works against an open /v1.
  const apiKey = flags.apiKey || env.FLOTILLA_API_KEY;
  const interactive = words.length === 0 && process.stdin.isTTY;
  // A terminal conversation is one session, so the router keeps it on the
  // node that holds its prompt cache.
  const session = flags.session ?? (interactive ? randomUUID() : undefined);
  const client = new OpenAI({
    baseURL: `${target.url}/v1`,
    apiKey: apiKey || NO_KEY,
    maxRetries: 0,
    defaultHeaders: {
      ...(flags.tier === undefined ? {} : { "x-flotilla-tier": flags.tier }),
      ...(flags.tierFallback ? {} : { "x-flotilla-tier-fallback": "false" }),
      ...(session === undefined ? {} : { "x-flotilla-session": session }),
    },
  });
  const ask = (turns: Turn[], signal?: AbortSignal) => streamAnswer(client, turns, flags, signal).catch((err: unknown) => {
    throw asCliError(err, target.url, apiKey === undefined || apiKey === "");
  });

  if (interactive) return converse(ask, target.url);
  const prompt = words.length > 0 ? words.join(" ") : await readAll(process.stdin);
  if (prompt.trim() === "") throw new CliError("no prompt: give one as arguments, or pipe it on stdin");
  await ask([{ role: "user", content: prompt }]);
}

/** Streams one answer to stdout as it arrives; resolves with its whole text. */
async function streamAnswer(client: OpenAI, turns: Turn[], flags: ChatFlags, signal: AbortSignal | undefined): Promise<string> {
  const { data: stream, response } = await client.chat.completions
    .create(
      {
        model: flags.model ?? ANY_MODEL,
        messages: turns,
        stream: true,
        ...(flags.maxTokens === undefined ? {} : { max_tokens: flags.maxTokens }),
      },
      signal === undefined ? {} : { signal },
    )
    .withResponse();
  if (flags.showRoute === true) {
    // Before the answer: the headers arrive first, and on a terminal they read as a preface.
    for (const name of ROUTE_HEADERS) process.stderr.write(`${name}: ${printable(response.headers.get(name) ?? "")}\n`);
  }
  let text = "";
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta.content ?? "";
    text += piece;
    // The model's text keeps its lines; a terminal escape in it is shown, not obeyed.
    process.stdout.write(printable(piece, { lines: true }));
  }
  if (!text.endsWith("\n")) process.stdout.write("\n");
  return text;
}

/** A terminal conversation: every turn is sent whole; /exit, Ctrl-D or Ctrl-C (when idle) ends it. */
async function converse(ask: (turns: Turn[], signal?: AbortSignal) => Promise<string>, url: string): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  let inFlight: AbortController | undefined;
  // Ctrl-C stops the answer being written; a second one, at the prompt, leaves.
  rl.on("SIGINT", () => {
    if (inFlight) inFlight.abort();
    else rl.close();
  });
  process.stderr.write(`chatting with ${url} (/exit or Ctrl-D to leave)\n`);
  const turns: Turn[] = [];
  rl.setPrompt("> ");
  rl.prompt();
  for await (const line of rl) {
    const content = line.trim();
    if (content === "/exit") break;
    if (content !== "") {
      turns.push({ role: "user", content });
      inFlight = new AbortController();
      try {
        turns.push({ role: "assistant", content: await ask(turns, inFlight.signal) });
      } catch (err) {
        // The failed question is dropped so the next one is not sent after it.
        turns.pop();
        if (!inFlight.signal.aborted) process.stderr.write(`flotilla: ${printable(err instanceof Error ? err.message : String(err))}\n`);
        else process.stdout.write("\n");
      } finally {
        inFlight = undefined;
      }
    }
    rl.prompt();
  }
  rl.close();
  // Ends the line the last prompt left open; and the terminal's stdin, which
  // would otherwise keep the process alive after Ctrl-D.
  process.stdout.write("\n");
  process.stdin.destroy();
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  input.setEncoding("utf8");
  for await (const chunk of input) text += String(chunk);
  return text;
}

function asCliError(err: unknown, url: string, noKey: boolean): unknown {
  if (err instanceof APIUserAbortError) return err;
  if (err instanceof APIConnectionError) {
    return new CliError(`cannot reach the coordinator at ${url} (${err.message}); is \`flotilla up\` running?`);
  }
  if (err instanceof APIError) {
    // The SDK keeps the `error` member of the body, whatever it held.
    const body = errorAnswer.shape.error.safeParse(err.error);
    const detail = body.success ? body.data.message : err.message;
    const hint = err.status === 401 && noKey ? " (pass --api-key or set FLOTILLA_API_KEY)" : "";
    return new CliError(err.status === undefined ? detail : `the coordinator answered ${err.status}: ${detail}${hint}`);
  }
  return err;
}
