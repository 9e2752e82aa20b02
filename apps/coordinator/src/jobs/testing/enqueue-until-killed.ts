// A child process for the kill -9 test: enqueues jobs into the SQLite queue
// at argv[2] one after another, printing "accepted <id>" once each enqueue
// has resolved, until it is killed.
import { SqliteJobQueue } from "../sqlite-job-queue.ts";

const file = process.argv[2];
if (file === undefined) throw new Error("usage: enqueue-until-killed.ts JOBS_FILE");
const queue = new SqliteJobQueue(file);
for (let i = 0; ; i++) {
  const job = await queue.enqueue({ kind: "chat", input: { i } });
  process.stdout.write(`accepted ${job.id}\n`);
}
