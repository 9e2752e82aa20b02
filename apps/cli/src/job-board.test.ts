// The watch board on a terminal (redrawn in place) and off one (a line per change).
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobObject, type JobObject } from "@flotilla/protocol";
import { JobBoard } from "./job-board.ts";

function job(id: string, fields: Partial<JobObject> = {}): JobObject {
  return jobObject.parse({
    id, object: "job", kind: "chat", pool: "brain", priority: "normal", state: "queued", position: 0, eta_s: null,
    waiting_reason: null, attempts: 0, max_attempts: 3, nodes: [], progress: null, created_at: 0, updated_at: 0,
    result_url: null, error: null, parent_id: null, ...fields,
  });
}

function sink(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns, write: (text: string) => writes.push(text) > 0 } };
}

test("off a terminal: a line whenever a job's line changes, none for a repeat, no escapes", () => {
  const { writes, out } = sink(false);
  const board = new JobBoard(["a", "b"], out);
  board.update(job("a"));
  board.update(job("a"));
  board.update(job("b", { state: "running", attempts: 1, progress: { fraction: 0.5, message: "half" } }));
  board.update(job("a", { state: "succeeded", position: null }));
  board.update(job("zzz"));
  board.finish();
  assert.equal(writes.length, 3);
  assert.match(writes[0] ?? "", /^a \[ +\]    - queued \(position 0\)\n$/);
  assert.match(writes[1] ?? "", /^b \[#{10} {10}\]  50% running: half\n$/);
  assert.match(writes[2] ?? "", /^a \[#{20}\] 100% succeeded\n$/);
  assert.doesNotMatch(writes.join(""), /\x1b/);
});

test("on a terminal: every draw goes back up over the board and rewrites each job's line, cut to the width", () => {
  const { writes, out } = sink(true, 36);
  const board = new JobBoard(["a", "b"], out);
  assert.equal(writes[0], "\r\x1b[2Ka waiting for its first event\n\r\x1b[2Kb waiting for its first event\n");
  board.update(job("b", { state: "cancelled", position: null }));
  const redraw = writes[1] ?? "";
  assert.ok(redraw.startsWith("\x1b[2A"), "the cursor goes back up two lines");
  const lines = redraw.slice("\x1b[2A".length).split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(line.replace("\r\x1b[2K", "").length <= 35, `fits the terminal: ${JSON.stringify(line)}`);
  assert.match(lines[1] ?? "", /^\r\x1b\[2Kb \[ {20}\] {4}- canc…$/);
});
