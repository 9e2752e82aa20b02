// OpenAI's Files and Batch APIs, put together for the coordinator: files.db
// and the blobs under <dataDir>/files/, the file store's retention sweep, and
// the batch service over the job queue. index.ts opens it after the jobs and
// starts its services after theirs, so they stop before the queue closes
// (docs/adr/0037).
import path from "node:path";
import type { Service } from "@flotilla/lifecycle";
import type { JobQueue } from "../job-queue.ts";
import { FilesDb } from "../files/files-db.ts";
import { FileStore } from "../files/file-store.ts";
import type { FileLimits } from "../files/file-limits.ts";
import { BatchStore } from "./batch-store.ts";
import { BatchService, type BatchServiceLog } from "./batch-service.ts";

export interface OpenAIBatchesDeps {
  dataDir: string;
  queue: JobQueue;
  log: BatchServiceLog;
  fileLimits?: Partial<FileLimits>;
  /** How often expired files are removed; default hourly. */
  sweepEveryMs?: number;
}

export class OpenAIBatches {
  readonly files: FileStore;
  readonly batches: BatchService;
  readonly #db: FilesDb;
  readonly #log: BatchServiceLog;
  readonly #sweepEveryMs: number;

  private constructor(db: FilesDb, files: FileStore, batches: BatchService, deps: OpenAIBatchesDeps) {
    this.#db = db;
    this.files = files;
    this.batches = batches;
    this.#log = deps.log;
    this.#sweepEveryMs = deps.sweepEveryMs ?? 3_600_000;
  }

  static async open(deps: OpenAIBatchesDeps): Promise<OpenAIBatches> {
    const db = new FilesDb(path.join(deps.dataDir, "files.db"));
    try {
      const files = await FileStore.open(db, path.join(deps.dataDir, "files"), deps.fileLimits ?? {});
      const batches = new BatchService({ db, files, batches: new BatchStore(db), queue: deps.queue, log: deps.log });
      return new OpenAIBatches(db, files, batches, deps);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** files.db's lifetime, the retention sweep's and the batch service's, in the order they start. */
  services(): Service[] {
    let timer: NodeJS.Timeout | undefined;
    let sweeping: Promise<void> = Promise.resolve();
    const sweep = () => {
      sweeping = this.files
        .sweep()
        .then(() => {})
        .catch((err: unknown) => this.#log.warn({ err }, "the sweep of expired files failed; the next one tries again"));
    };
    return [
      { name: "files database", start: () => {}, stop: () => Promise.resolve(this.#db.close()) },
      {
        name: "file retention sweep",
        start: () => {
          sweep();
          timer = setInterval(sweep, this.#sweepEveryMs);
          timer.unref();
        },
        stop: async () => {
          clearInterval(timer);
          await sweeping;
        },
      },
      this.batches,
    ];
  }
}
