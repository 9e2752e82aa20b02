import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { readLines } from "./read-lines.ts";

async function collect(chunks: Array<Buffer | string>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(Readable.from(chunks, { objectMode: true }) as AsyncIterable<Buffer | string>)) lines.push(line);
  return lines;
}

test("lines split across chunks, CRLF, a multi-byte character cut in two, and a last line without newline", async () => {
  const euro = Buffer.from("€");
  assert.deepEqual(await collect(["a\nb", "c\r\n", "\n", Buffer.concat([Buffer.from("x"), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from("y\nlast")])]), [
    "a",
    "bc",
    "",
    "x€y",
    "last",
  ]);
  assert.deepEqual(await collect([]), []);
});
