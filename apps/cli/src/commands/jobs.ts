// `flotilla jobs submit|list|show|cancel|watch`: the async job API (/v1/jobs,
// issue 12) from the command line. A thin client: the coordinator validates
// and decides; the CLI checks what it can before sending (exit 2), parses
// every answer with the protocol's schemas, and prints remote text through
// printable().
import { readFile } from "node:fs/promises";
import { InvalidArgumentError, Option, type Command } from "commander";
import { z } from "zod";
import { JOB_KINDS, JOB_PRIORITIES, JOB_STATES, jobList, jobObject, type JobKind, type JobObject, type JobState } from "@flotilla/protocol";
import { CliError, type ClientTarget } from "../client.ts";
import { JobClient } from "../job-client.ts";
import { answerText, details, LIST_HEADER, listRow, status, terminalJson } from "../job-display.ts";
import { submitBody, UsageError, type SubmitFlags } from "../job-submit-body.ts";
import { JobBoard } from "../job-board.ts";
import { parsePositiveInt } from "../option-parsers.ts";
import { printable } from "../printable.ts";
import { table } from "../table.ts";

interface ClientFlags {
  url?: string;
  dataDir?: string;
}

/** What main.ts lends these commands: its shared client flags and how they become a target. */
export interface JobsCommandContext {
  withClientFlags: (command: Command) => Command;
  targetOf: (flags: ClientFlags) => ClientTarget;
  env: NodeJS.ProcessEnv;
}

interface KeyFlags extends ClientFlags {
  apiKey?: string;
}

/** The body's flags (job-submit-body.ts), with where the input comes from and what to print. */
interface SubmitOptions extends KeyFlags, Omit<SubmitFlags, "inputJson" | "inputSource"> {
  input?: string;
  inputFile?: string;
  wait?: boolean;
  json?: boolean;
}

interface ListOptions extends KeyFlags {
  state?: JobState;
  pool?: string;
  kind?: JobKind;
  limit: number;
  after?: string;
  json?: boolean;
}

/** As the coordinator takes it (gateway/jobs/job-routes.ts): checked here so a bad one is a usage error. */
const jobId = z.string().min(1).max(100);

function parseMaxAttempts(text: string): number {
  const n = parsePositiveInt(text);
  if (n > 20) throw new InvalidArgumentError("use a whole number from 1 to 20");
  return n;
}

function parseLimit(text: string): number {
  const n = parsePositiveInt(text);
  if (n > 1000) throw new InvalidArgumentError("use a whole number from 1 to 1000");
  return n;
}

const apiKeyOption = () => new Option("--api-key <key>", "a client key for /v1 (env FLOTILLA_API_KEY; default: none, for an open /v1)");

/** Registers the `jobs` subcommands on `jobs`. */
export function defineJobsCommands(jobs: Command, context: JobsCommandContext): Command {
  const { withClientFlags, targetOf, env } = context;
  const clientOf = (flags: KeyFlags) => new JobClient(targetOf(flags), flags.apiKey || env.FLOTILLA_API_KEY);

  jobs.description("asynchronous jobs (/v1/jobs): submit, list, show, cancel, watch");

  withClientFlags(jobs.command("submit").description("queue a job; prints its id (with --wait: its result)"))
    .addOption(new Option("--kind <kind>", "what the job is").choices(JOB_KINDS).makeOptionMandatory())
    .option("--prompt <text>", "the prompt: the user message of a chat, the text of a completion or embedding, the prompt of an image, video or music job, the text of speech")
    .option("--model <model>", "the model (text kinds default to any the cluster serves)")
    .option("--max-tokens <n>", "chat and completion: the longest answer, in tokens", parsePositiveInt)
    .option("--input <json>", "the whole input as JSON, instead of --prompt and --model")
    .option("--input-file <file>", "the whole input from a JSON file")
    .option("--pool <pool>", "the pool to queue it in (default: its kind's)")
    .addOption(new Option("--priority <priority>", "its place among the pool's queued jobs (default normal)").choices(JOB_PRIORITIES))
    .option("--idempotency-key <key>", "the same key gives back the job it first made, and queues nothing")
    .option("--max-attempts <n>", "attempts before it is dead (1 to 20, default 3)", parseMaxAttempts)
    .option("--webhook <url>", "called with the job once it is terminal")
    .option("--wait", "follow it until it ends, progress on stderr, then print its result")
    .option("--json", "with --wait: the result as JSON, even for a text answer")
    .addOption(apiKeyOption())
    .action(async (flags: SubmitOptions, command: Command) => {
      const body = await usage(command, async () => {
        if (flags.input !== undefined && flags.inputFile !== undefined) throw new UsageError("--input and --input-file do not go together");
        if (flags.json === true && flags.wait !== true) throw new UsageError("--json goes with --wait (without it, submit prints the job's id)");
        const inputJson = flags.inputFile === undefined ? flags.input : await readInputFile(flags.inputFile);
        return submitBody({ ...flags, inputJson, inputSource: flags.inputFile === undefined ? "--input" : `--input-file ${flags.inputFile}` });
      });
      const client = clientOf(flags);
      const { data: job } = await client.request("POST", "/v1/jobs", jobObject, body);
      process.stderr.write(`${printable(`job ${job.id} ${status(job)}, pool ${job.pool}`)}\n`);
      if (flags.wait !== true) {
        process.stdout.write(`${printable(job.id)}\n`);
        return;
      }
      const [done] = await watchJobs(client, [job.id], process.stderr);
      if (done === undefined || done.state !== "succeeded") throw new CliError(`job ${job.id} ${done === undefined ? "was not seen to end" : status(done)}`);
      const { data: result } = await client.request("GET", `/v1/jobs/${encodeURIComponent(job.id)}/result`, z.unknown());
      const text = flags.json === true ? null : answerText(result);
      process.stdout.write(text === null ? terminalJson(result) : `${printable(text, { lines: true })}${text.endsWith("\n") ? "" : "\n"}`);
    });

  withClientFlags(jobs.command("list").description("jobs, oldest first: id, kind, pool, state, progress, position, attempts, age"))
    .addOption(new Option("--state <state>", "only jobs in this state").choices(JOB_STATES))
    .option("--pool <pool>", "only jobs of this pool")
    .addOption(new Option("--kind <kind>", "only jobs of this kind").choices(JOB_KINDS))
    .option("--limit <n>", "at most this many (1 to 1000)", parseLimit, 100)
    .option("--after <cursor>", "the page after this cursor (from a listing that said there were more)")
    .option("--json", "machine-readable output")
    .addOption(apiKeyOption())
    .action(async (flags: ListOptions) => {
      const query = new URLSearchParams({ limit: String(flags.limit) });
      if (flags.state !== undefined) query.set("state", flags.state);
      if (flags.pool !== undefined) query.set("pool", flags.pool);
      if (flags.kind !== undefined) query.set("kind", flags.kind);
      if (flags.after !== undefined) query.set("after", flags.after);
      const { data: page, json } = await clientOf(flags).request("GET", `/v1/jobs?${query.toString()}`, jobList);
      if (flags.json === true) {
        process.stdout.write(terminalJson(json));
        return;
      }
      if (page.data.length === 0) process.stdout.write("no jobs\n");
      else process.stdout.write(table(LIST_HEADER, page.data.map((job) => listRow(job, Date.now() / 1000))));
      if (page.has_more && page.next_cursor !== null) process.stderr.write(`${printable(`more jobs: --after ${page.next_cursor}`)}\n`);
    });

  withClientFlags(jobs.command("show").description("one job: state, progress, position, eta, attempts, nodes, result").argument("<id>"))
    .option("--json", "the job as the coordinator answered it")
    .addOption(apiKeyOption())
    .action(async (id: string, flags: KeyFlags & { json?: boolean }, command: Command) => {
      await usage(command, () => checkIds([id]));
      const { data: job, json } = await clientOf(flags).request("GET", `/v1/jobs/${encodeURIComponent(id)}`, jobObject);
      process.stdout.write(flags.json === true ? terminalJson(json) : details(job, Date.now() / 1000));
    });

  withClientFlags(jobs.command("cancel").description("cancel a job; a running one is stopped on its node").argument("<id>"))
    .addOption(apiKeyOption())
    .action(async (id: string, flags: KeyFlags, command: Command) => {
      await usage(command, () => checkIds([id]));
      const { data: job } = await clientOf(flags).request("POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`, jobObject);
      process.stderr.write(`${printable(`job ${job.id} ${status(job)}`)}\n`);
    });

  withClientFlags(jobs.command("watch").description("a progress bar per job until all have ended; exit 0 only if all succeeded").argument("<id...>"))
    .addOption(apiKeyOption())
    .action(async (ids: string[], flags: KeyFlags, command: Command) => {
      await usage(command, () => checkIds(ids));
      const unique = [...new Set(ids)];
      const ended = await watchJobs(clientOf(flags), unique, process.stdout);
      const failed = ended.filter((job) => job.state !== "succeeded");
      if (failed.length > 0) {
        throw new CliError(`${failed.length} of ${unique.length} jobs did not succeed: ${failed.map((job) => `${job.id} ${job.state}`).join(", ")}`);
      }
    });

  return jobs;
}

/** Runs `check`; a UsageError it throws becomes commander's usage error (exit 2). */
async function usage<T>(command: Command, check: () => T | Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof UsageError) command.error(`error: ${printable(err.message)}`, { exitCode: 2, code: "flotilla.usage" });
    throw err;
  }
}

function checkIds(ids: readonly string[]): void {
  for (const id of ids) {
    if (!jobId.safeParse(id).success) throw new UsageError(`'${id.slice(0, 40)}' is not a job id: one is 1 to 100 characters`);
  }
}

async function readInputFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = err instanceof Error && "code" in err ? String(err.code) : "";
    throw new UsageError(`cannot read --input-file ${file}${code === "" ? "" : ` (${code})`}`);
  }
}

/**
 * Follows every job's events onto `out` (a JobBoard: redrawn in place on a
 * terminal, a line per change otherwise) until each has ended. Resolves with
 * each job as it ended; a job whose stream failed rejects the whole, after
 * the others have ended, with its reason.
 */
async function watchJobs(client: JobClient, ids: readonly string[], out: NodeJS.WriteStream): Promise<JobObject[]> {
  const board = new JobBoard(ids, out);
  const settled = await Promise.allSettled(
    ids.map(async (id) => {
      let last: JobObject | undefined;
      try {
        for await (const message of client.events(id)) {
          last = message.job;
          board.update(message.job);
        }
      } catch (err) {
        board.note(id, `${id} ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
      if (last === undefined) throw new CliError(`job ${id} sent no events`);
      return last;
    }),
  );
  board.finish();
  const failure = settled.find((s) => s.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
}
