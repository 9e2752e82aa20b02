// Webhooks for finished jobs (issue 12, docs/adr/0036): a job submitted with
// `webhook` gets one POST when it ends (succeeded, failed, cancelled, dead),
// signed with its key's secret, retried with backoff until the receiver
// answers 2xx or the schedule runs out, to URLs the node URL policy allows.
//
// The outbox (webhooks.db) is the source of truth, not the queue's events:
// the route records what is owed when it accepts the job, the queue's change
// fills in the event, and a reconcile pass asks the queue about every job
// still watched, which covers a change made while this coordinator was down
// or by another coordinator sharing a Redis queue. Delivery is at least once:
// a send cut short by a stop is sent again after the restart, with the same
// `webhook-id`, so receivers can drop the repeat.
import { randomBytes } from "node:crypto";
import type { Dispatcher } from "undici";
import type { Service } from "@flotilla/lifecycle";
import type { Job } from "../job.ts";
import type { JobQueue } from "../job-queue.ts";
import { isTerminal } from "../job-state.ts";
import type { JobRunnerLog } from "../job-runner.ts";
import { WebhookOutbox, type WebhookDelivery } from "./webhook-outbox.ts";
import { webhookSecretFor } from "./webhook-signing.ts";
import { afterFailedSend, DEFAULT_WEBHOOK_SCHEDULE, type WebhookSchedule } from "./webhook-schedule.ts";
import { sendWebhook } from "./webhook-sender.ts";

export interface WebhookServiceOptions {
  /** webhooks.db's path, or ":memory:". */
  file: string;
  queue: JobQueue;
  /** The coordinator's webhook key (webhook.key): every key's secret derives from it. */
  masterKey: string;
  /** The node connections: their lookup enforces the network allowlist. */
  dispatcher: Dispatcher;
  /** The job as clients see it (GET /v1/jobs/:id): the event's `data`. */
  render: (job: Job) => Promise<unknown>;
  /** Whether the URL may be called now under the node URL policy; a name that does not resolve is retried, not refused. */
  checkUrl: (url: string) => Promise<{ ok: true } | { ok: false; reason: string; unresolved?: true }>;
  log: JobRunnerLog;
  schedule?: WebhookSchedule;
  /** How long a receiver has to answer; default 10 s. */
  timeoutMs?: number;
  /** How often due retries are looked for; default 1 s. */
  tickMs?: number;
  /** How often watched jobs are checked against the queue; default 10 s. */
  reconcileMs?: number;
  /** How long a finished delivery's record is kept; default 7 days. */
  retentionMs?: number;
  maxInFlight?: number;
  /** Told each send's outcome once it is recorded: `pending` is a retry to come. */
  onOutcome?: (jobId: string, state: "pending" | "delivered" | "gave_up") => void;
  nowMs?: () => number;
  random?: () => number;
}

/** The body of every webhook: an event in the shape of OpenAI's webhook events. */
export interface JobWebhookEvent {
  id: string;
  object: "event";
  type: `job.${Job["state"]}`;
  created_at: number;
  data: unknown;
}

export class WebhookService implements Service {
  readonly name = "job webhooks";
  readonly #options: WebhookServiceOptions;
  readonly #outbox: WebhookOutbox;
  readonly #schedule: WebhookSchedule;
  readonly #nowMs: () => number;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();
  #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void) | undefined;
  #reconciling: Promise<void> | undefined;

  constructor(options: WebhookServiceOptions) {
    this.#options = options;
    this.#outbox = new WebhookOutbox(options.file);
    this.#schedule = options.schedule ?? DEFAULT_WEBHOOK_SCHEDULE;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /** The secret that verifies the webhooks of an owner's jobs. */
  secretFor(owner: string): string {
    return webhookSecretFor(this.#options.masterKey, owner);
  }

  /** Null when a webhook URL may be called, else why not: the node URL policy. */
  async problemWith(url: string): Promise<string | null> {
    const verdict = await this.#options.checkUrl(url);
    return verdict.ok ? null : verdict.reason;
  }

  /** Records that the job's webhook is owed; call once its job is accepted. A repeat changes nothing. */
  async watch(job: Job): Promise<void> {
    // A job made by the coordinator itself has no owner to sign for; only clients name webhooks.
    if (job.webhookUrl === null || job.owner === null) return;
    this.#outbox.watch(job.id, job.owner, job.webhookUrl, this.#nowMs());
    // It may have ended before the row was there for the queue's change to
    // find (a quick job, an idempotent repeat): look once more now.
    const now = await this.#options.queue.get(job.id);
    if (now !== null && isTerminal(now.state)) await this.#ready(now);
  }

  /** What is owed for a job, for status and tests. */
  delivery(jobId: string): WebhookDelivery | null {
    return this.#outbox.get(jobId);
  }

  start(): void {
    this.#unsubscribe = this.#options.queue.subscribe((change) => {
      if (change.type === "state" && isTerminal(change.job.state) && change.job.webhookUrl !== null) {
        this.#ready(change.job).catch((err: unknown) => this.#options.log.warn({ err, jobId: change.job.id }, "could not queue a job's webhook"));
      }
    });
    const every = (ms: number, work: () => void) => {
      const timer = setInterval(work, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#options.tickMs ?? 1_000, () => this.#pump());
    every(this.#options.reconcileMs ?? 10_000, () => this.#reconcile());
    this.#reconcile();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#stopping.abort();
    await Promise.allSettled([...this.#inFlight.values(), this.#reconciling]);
    this.#outbox.close();
  }

  async #ready(job: Job): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    const event: JobWebhookEvent = {
      id: `evt_${randomBytes(12).toString("hex")}`,
      object: "event",
      type: `job.${job.state}`,
      created_at: Math.floor(this.#nowMs() / 1000),
      data: await this.#options.render(job),
    };
    if (this.#stopping.signal.aborted) return;
    if (this.#outbox.ready(job.id, { id: event.id, body: JSON.stringify(event) }, this.#nowMs())) this.#pump();
  }

  /** Starts sending what is due, up to maxInFlight at once. */
  #pump(): void {
    if (this.#stopping.signal.aborted) return;
    const room = (this.#options.maxInFlight ?? 8) - this.#inFlight.size;
    if (room <= 0) return;
    const due = this.#outbox.due(this.#nowMs(), room + this.#inFlight.size).filter((delivery) => !this.#inFlight.has(delivery.jobId));
    for (const delivery of due.slice(0, room)) {
      const sending = this.#deliver(delivery)
        .catch((err: unknown) => this.#options.log.warn({ err, jobId: delivery.jobId }, "a job's webhook could not be recorded"))
        .finally(() => {
          this.#inFlight.delete(delivery.jobId);
          this.#pump();
        });
      this.#inFlight.set(delivery.jobId, sending);
    }
  }

  async #deliver(delivery: WebhookDelivery): Promise<void> {
    if (delivery.eventId === null || delivery.body === null) return;
    // Checked again at each send: the allowlist is this start's, which may be narrower than the one that accepted the URL.
    const verdict = await this.#options.checkUrl(delivery.url);
    if (this.#stopping.signal.aborted) return;
    if (!verdict.ok && verdict.unresolved !== true) {
      this.#giveUp(delivery, `the webhook URL is not allowed: ${verdict.reason}`);
      return;
    }
    const outcome = !verdict.ok ? { ok: false as const, error: verdict.reason } : await sendWebhook(
      { url: delivery.url, eventId: delivery.eventId, body: delivery.body, secret: this.secretFor(delivery.owner) },
      { dispatcher: this.#options.dispatcher, timeoutMs: this.#options.timeoutMs ?? 10_000, nowMs: this.#nowMs(), signal: this.#stopping.signal },
    );
    // Cut short by a stop: not an attempt. It stays pending and is sent after the restart.
    if (this.#stopping.signal.aborted) return;
    const now = this.#nowMs();
    if (outcome.ok) {
      this.#outbox.delivered(delivery.jobId, now);
      this.#options.onOutcome?.(delivery.jobId, "delivered");
      return;
    }
    const next = afterFailedSend(delivery.attempts + 1, now, this.#schedule, this.#options.random ?? Math.random);
    if (next.kind === "give_up") {
      this.#giveUp(delivery, outcome.error);
      return;
    }
    this.#outbox.retryAt(delivery.jobId, next.atMs, outcome.error, now);
    this.#options.onOutcome?.(delivery.jobId, "pending");
  }

  #giveUp(delivery: WebhookDelivery, error: string): void {
    this.#outbox.gaveUp(delivery.jobId, error, this.#nowMs());
    // The host only: a webhook URL's path or query often carries the receiver's token.
    this.#options.log.warn({ jobId: delivery.jobId, host: hostOf(delivery.url), attempts: delivery.attempts + 1, error }, "gave up on a job's webhook");
    this.#options.onOutcome?.(delivery.jobId, "gave_up");
  }

  /** Asks the queue about every watched job, so a change this coordinator did not see still sends its webhook. */
  #reconcile(): void {
    if (this.#reconciling !== undefined || this.#stopping.signal.aborted) return;
    this.#reconciling = (async () => {
      let after = "";
      for (;;) {
        const ids = this.#outbox.watching(after, 200);
        for (const id of ids) {
          if (this.#stopping.signal.aborted) return;
          const job = await this.#options.queue.get(id);
          if (job !== null && isTerminal(job.state)) await this.#ready(job);
        }
        if (ids.length < 200) break;
        after = ids.at(-1) ?? after;
      }
      this.#outbox.prune(this.#nowMs() - (this.#options.retentionMs ?? 7 * 24 * 3_600_000));
    })()
      .catch((err: unknown) => {
        if (!this.#stopping.signal.aborted) this.#options.log.warn({ err }, "could not check watched jobs for their webhooks");
      })
      .finally(() => {
        this.#reconciling = undefined;
      });
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(not a URL)";
  }
}
