// The CLI's client of /v1/jobs. Jobs belong to the client key that made
// them, so it sends a client key, as `flotilla chat` does (--api-key or
// FLOTILLA_API_KEY; none for an open /v1), never the admin key: these
// commands may be pointed at any URL (ADR 0025). Every answer is parsed with
// its schema from @flotilla/protocol (jobs-api.ts) before a command reads it.
import { setTimeout as delay } from "node:timers/promises";
import type { z } from "zod";
import { errorAnswer, formatParam, isTerminalJobState, jobEvent, type JobEventMessage } from "@flotilla/protocol";
import { CliError, type ClientTarget } from "./client.ts";
import { SseDataReader } from "./sse-data.ts";

/** Sent when no key is found: /v1 needs none until the first client key exists. */
const NO_KEY = "none";
/** A dropped event stream is opened again this many times in a row before watching gives up. */
const STREAM_RETRIES = 5;

/** The coordinator could not be reached at all: worth another try while watching, unlike an answer. */
class UnreachableError extends CliError {}

export class JobClient {
  readonly #target: ClientTarget;
  readonly #key: string | undefined;

  constructor(target: ClientTarget, apiKey: string | undefined) {
    this.#target = target;
    this.#key = apiKey === undefined || apiKey === "" ? undefined : apiKey;
  }

  /** The answer as the schema parses it, and its JSON as it came (for --json). */
  async request<S extends z.ZodType>(method: "GET" | "POST", route: string, schema: S, body?: unknown): Promise<{ data: z.output<S>; json: unknown }> {
    const response = await this.#fetch(route, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      signal: AbortSignal.timeout(30_000),
    });
    const json = await this.#json(response);
    const parsed = schema.safeParse(json);
    if (parsed.success) return { data: parsed.data, json };
    throw new CliError(`the coordinator answered something this CLI does not understand: ${describeIssue(parsed.error)} — is it a different version?`);
  }

  /**
   * The job's events until one shows it terminal. The stream is at least
   * once and starts with the job as it is, so one that drops is opened again
   * (a coordinator restarting); after STREAM_RETRIES failures in a row, a CliError.
   */
  async *events(id: string, signal?: AbortSignal): AsyncGenerator<JobEventMessage> {
    let failures = 0;
    for (;;) {
      let failure: unknown;
      try {
        for await (const message of this.#stream(id, signal)) {
          failures = 0;
          yield message;
          if (isTerminalJobState(message.job.state)) return;
        }
        failure = new CliError(`the event stream of job ${id} ended before the job did`);
      } catch (err) {
        // An answer (a 404, a 401, an event of another version) will not change: said at once.
        // A connection that failed or broke may be a coordinator restarting.
        if (signal?.aborted === true || (err instanceof CliError && !(err instanceof UnreachableError))) throw err;
        failure = err instanceof CliError ? err : new CliError(`job ${id}'s event stream broke (${err instanceof Error ? err.message : String(err)})`);
      }
      failures += 1;
      if (failures > STREAM_RETRIES) throw failure;
      await delay(250 * failures, undefined, signal === undefined ? {} : { signal });
    }
  }

  async *#stream(id: string, signal: AbortSignal | undefined): AsyncGenerator<JobEventMessage> {
    const response = await this.#fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, {
      method: "GET",
      headers: { accept: "text/event-stream" },
      ...(signal === undefined ? {} : { signal }),
    });
    if (!response.ok) await this.#json(response);
    if (response.body === null) return;
    const reader = new SseDataReader();
    const decoder = new TextDecoder();
    const body: AsyncIterable<Uint8Array> = response.body;
    for await (const chunk of body) {
      for (const data of reader.push(decoder.decode(chunk, { stream: true }))) {
        let value: unknown;
        try {
          value = JSON.parse(data);
        } catch {
          throw new CliError(`job ${id}'s event stream sent an event that is not JSON`);
        }
        const parsed = jobEvent.safeParse(value);
        if (!parsed.success) {
          throw new CliError(`the coordinator sent an event this CLI does not understand: ${describeIssue(parsed.error)} — is it a different version?`);
        }
        yield parsed.data;
      }
    }
  }

  async #fetch(route: string, init: RequestInit): Promise<Response> {
    const url = new URL(route, this.#target.url);
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.#key ?? NO_KEY}`);
    try {
      return await fetch(url, { ...init, headers, redirect: "error" });
    } catch (err) {
      if (init.signal?.aborted === true && !(init.signal.reason instanceof DOMException && init.signal.reason.name === "TimeoutError")) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new UnreachableError(`cannot reach the coordinator at ${this.#target.url} (${why}); is \`flotilla up\` running?`);
    }
  }

  /** The answer's JSON; a CliError naming the coordinator's message for a failure. */
  async #json(response: Response): Promise<unknown> {
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw new CliError(`the coordinator at ${this.#target.url} stopped answering (${err instanceof Error ? err.message : String(err)})`);
    }
    let parsed: unknown = text;
    try {
      parsed = text === "" ? undefined : (JSON.parse(text) as unknown);
    } catch {
      // Not JSON: the text is the message.
    }
    if (response.ok) return parsed;
    const error = errorAnswer.safeParse(parsed);
    const hint = response.status === 401 && this.#key === undefined ? " (pass --api-key or set FLOTILLA_API_KEY)" : "";
    throw new CliError(`the coordinator answered ${response.status}: ${error.success ? error.data.error.message : text.slice(0, 500)}${hint}`);
  }
}

/** The first problem, named by its path the way the server names a bad param. */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "its answer";
  const where = formatParam(issue.path);
  return `${where === "" ? "the answer" : where}: ${issue.message}`;
}
