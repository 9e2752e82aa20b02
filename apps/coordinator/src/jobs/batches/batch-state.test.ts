import { test } from "node:test";
import assert from "node:assert/strict";
import { BATCH_EVENTS, BATCH_STATUSES, BATCH_TRANSITIONS, batchTransition, isBatchTerminal } from "./batch-state.ts";
import { applyBatchEvent, newBatch, COMPLETION_WINDOW_MS } from "./batch.ts";

test("the batch state table: OpenAI's statuses, the moves allowed, and terminal states without any", () => {
  assert.deepEqual([...BATCH_STATUSES].sort(), ["cancelled", "cancelling", "completed", "expired", "failed", "finalizing", "in_progress", "validating"]);
  const moves = Object.entries(BATCH_TRANSITIONS).flatMap(([from, to]) => Object.entries(to).map(([event, target]) => `${from} -${event}-> ${target}`));
  assert.deepEqual(moves.sort(), [
    "cancelling -finish-> cancelled",
    "finalizing -finish-> completed",
    "in_progress -cancel-> cancelling",
    "in_progress -expire-> expired",
    "in_progress -settle-> finalizing",
    "validating -cancel-> cancelling",
    "validating -enqueued-> in_progress",
    "validating -expire-> expired",
    "validating -fail-> failed",
  ]);
  assert.deepEqual(BATCH_STATUSES.filter(isBatchTerminal), ["completed", "failed", "cancelled", "expired"]);
  for (const status of BATCH_STATUSES.filter(isBatchTerminal)) {
    for (const event of BATCH_EVENTS) assert.equal(batchTransition(status, event).ok, false, `${status} refuses ${event}`);
  }
  assert.deepEqual(batchTransition("finalizing", "cancel"), { ok: false, reason: "a finalizing batch cannot cancel" });
});

test("applying an event sets the status's timestamp and the changes, and leaves the rest", () => {
  const batch = newBatch({ id: "batch_1", owner: "open", endpoint: "/v1/chat/completions", inputFileId: "file-1", metadata: null, total: 2 }, 1000);
  assert.equal(batch.status, "validating");
  assert.equal(batch.expiresAtMs, 1000 + COMPLETION_WINDOW_MS);
  const running = applyBatchEvent(batch, "enqueued", 2000);
  assert.ok(running.ok);
  assert.equal(running.batch.status, "in_progress");
  assert.equal(running.batch.inProgressAtMs, 2000);
  assert.equal(running.batch.createdAtMs, 1000);
  const settled = applyBatchEvent(running.batch, "settle", 3000);
  assert.ok(settled.ok);
  const done = applyBatchEvent(settled.batch, "finish", 4000, { outputFileId: "file-out", errorFileId: null });
  assert.ok(done.ok);
  assert.equal(done.batch.status, "completed");
  assert.equal(done.batch.completedAtMs, 4000);
  assert.equal(done.batch.outputFileId, "file-out");
  assert.equal(applyBatchEvent(done.batch, "cancel", 5000).ok, false);
});
