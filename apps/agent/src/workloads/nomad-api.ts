// The part of Nomad's HTTP API the nomad driver uses
// (https://developer.hashicorp.com/nomad/api-docs/jobs): register a job
// (POST /v1/jobs), list its allocations (GET /v1/job/:id/allocations), and
// deregister it (DELETE /v1/job/:id, ?purge=true to forget it too). What
// Nomad answers is validated for the fields the driver reads, and bounded;
// the ACL token goes in X-Nomad-Token and never into a message.
import { readFile, stat } from "node:fs/promises";
import { z } from "zod";

/** One call takes at most this long: a Nomad agent that hangs is one that failed. */
const CALL_TIMEOUT_MS = 10_000;
/** Nomad's answers are small (one job's allocations); more than this is not Nomad's. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
/** A job spec is a few kilobytes. */
const MAX_JOB_FILE_BYTES = 1024 * 1024;

const taskEvent = z.looseObject({ Type: z.string().nullish(), DisplayMessage: z.string().nullish() });
const taskState = z.looseObject({ State: z.string().nullish(), Failed: z.boolean().nullish(), Events: z.array(taskEvent).nullish() });

/** An AllocListStub, as far as it is read. */
export const allocationStub = z.looseObject({
  ID: z.string().min(1),
  /** pending, running, complete, failed, lost, unknown. */
  ClientStatus: z.string(),
  ClientDescription: z.string().nullish(),
  /** The Raft index it was created at: allocations of an earlier registration of the same job are older than it. */
  CreateIndex: z.number().int().nonnegative(),
  TaskStates: z.record(z.string(), taskState).nullish(),
});
export type AllocationStub = z.infer<typeof allocationStub>;

const registerAnswer = z.looseObject({ JobModifyIndex: z.number().int().nonnegative() });

/** The job file: the API's own shape. Only the ID (and namespace) are read; the rest is Nomad's to judge. */
const jobFile = z.looseObject({
  Job: z.looseObject({
    ID: z.string().regex(/^[^\s/?#%]{1,128}$/, "must be a job ID: 1-128 characters, no spaces, '/', '?', '#' or '%'"),
    Namespace: z.string().min(1).optional(),
  }),
});

export interface JobFile {
  /** The file's text, sent as it is. */
  text: string;
  id: string;
  namespace: string | undefined;
}

export async function readJobFile(file: string): Promise<JobFile> {
  const { size } = await stat(file).catch((err: unknown) => {
    throw new Error(`cannot read the job file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (size > MAX_JOB_FILE_BYTES) throw new Error(`the job file ${file} is ${size} bytes, more than ${MAX_JOB_FILE_BYTES}`);
  const text = await readFile(file, "utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`the job file ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const job = jobFile.safeParse(parsed);
  if (!job.success) {
    const issue = job.error.issues[0];
    throw new Error(`the job file ${file} is not a Nomad job ({"Job": {"ID": …}}): ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim());
  }
  return { text, id: job.data.Job.ID, namespace: job.data.Job.Namespace };
}

/** A call that failed: `status` is Nomad's HTTP status, undefined when Nomad did not answer at all. */
export class NomadApiError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined) {
    super(message);
    this.name = "NomadApiError";
    this.status = status;
  }
}

export interface NomadApiOptions {
  /** http(s)://host:port of a Nomad agent. */
  address: string;
  token: string | undefined;
  namespace: string | undefined;
}

export class NomadApi {
  readonly #o: NomadApiOptions;

  constructor(options: NomadApiOptions) {
    this.#o = options;
  }

  /** Registers the job as the file has it; resolves with the registration's index. */
  async register(jobJson: string, signal: AbortSignal): Promise<{ jobModifyIndex: number }> {
    const answer = registerAnswer.safeParse(await this.#call("POST", "/v1/jobs", jobJson, signal));
    if (!answer.success) throw new NomadApiError("Nomad's answer to POST /v1/jobs has no JobModifyIndex", undefined);
    return { jobModifyIndex: answer.data.JobModifyIndex };
  }

  async allocations(jobId: string, signal: AbortSignal): Promise<AllocationStub[]> {
    const answer = z.array(allocationStub).safeParse(await this.#call("GET", `/v1/job/${encodeURIComponent(jobId)}/allocations`, undefined, signal));
    if (!answer.success) throw new NomadApiError(`Nomad's list of allocations is not one: ${answer.error.issues[0]?.message ?? ""}`, undefined);
    return answer.data;
  }

  /** Stops the job's allocations; with purge, Nomad forgets the job too. A job Nomad does not know is deregistered already. */
  async deregister(jobId: string, purge: boolean, signal: AbortSignal): Promise<void> {
    try {
      await this.#call("DELETE", `/v1/job/${encodeURIComponent(jobId)}${purge ? "?purge=true" : ""}`, undefined, signal);
    } catch (err) {
      if (!(err instanceof NomadApiError && err.status === 404)) throw err;
    }
  }

  async #call(method: "GET" | "POST" | "DELETE", pathAndQuery: string, body: string | undefined, signal: AbortSignal): Promise<unknown> {
    const url = new URL(`${this.#o.address.replace(/\/+$/, "")}${pathAndQuery}`);
    if (this.#o.namespace !== undefined && method !== "POST") url.searchParams.set("namespace", this.#o.namespace);
    const what = `${method} ${url.pathname}`;
    const headers: Record<string, string> = {};
    if (this.#o.token !== undefined) headers["x-nomad-token"] = this.#o.token;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, redirect: "error", signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]) });
    } catch (err) {
      signal.throwIfAborted();
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new NomadApiError(`Nomad at ${this.#o.address} did not answer ${what}: ${cause}`, undefined);
    }
    const text = await boundedText(response, what);
    if (!response.ok) throw new NomadApiError(`Nomad answered ${what} with ${response.status}: ${text.trim().slice(0, 300)}`, response.status);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new NomadApiError(`Nomad's answer to ${what} is not JSON`, undefined);
    }
  }
}

async function boundedText(response: Response, what: string): Promise<string> {
  // (Node's types leave a fetch body's chunks untyped; they are bytes.)
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (reader === undefined) return "";
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new NomadApiError(`Nomad's answer to ${what} is more than ${MAX_ANSWER_BYTES} bytes`, undefined);
    }
    text += decoder.decode(value, { stream: true });
  }
}
