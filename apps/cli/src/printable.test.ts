import { test } from "node:test";
import assert from "node:assert/strict";
import { printable } from "./printable.ts";
import { table } from "./table.ts";

test("plain text, Unicode included, is left as it is", () => {
  assert.equal(printable("llama3.1:8b NVIDIA GeForce RTX 4090 — 24G ✓ 日本語"), "llama3.1:8b NVIDIA GeForce RTX 4090 — 24G ✓ 日本語");
});

test("terminal escapes are written out, not obeyed", () => {
  // Clear the screen; set the window title; move the cursor up and erase the line.
  assert.equal(printable("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
  assert.equal(printable("\x1b]0;pwned\x07m"), "\\x1b]0;pwned\\x07m");
  assert.equal(printable("ok\r\x1b[1A\x1b[2Kfake row"), "ok\\x0d\\x1b[1A\\x1b[2Kfake row");
  // DEL, NUL, and C1's single-byte CSI.
  assert.equal(printable("a\x7fb\x00c\u009b31m"), "a\\x7fb\\x00c\\x9b31m");
});

test("line breaks: escaped in a cell, kept in a text of lines", () => {
  assert.equal(printable("one\ntwo\tthree"), "one\\x0atwo\\x09three");
  assert.equal(printable("one\ntwo\tthree\x1b[31m", { lines: true }), "one\ntwo\tthree\\x1b[31m");
  assert.equal(printable("a\u2028b\u2029c"), "a\\u2028b\\u2029c");
});

test("bidirectional overrides cannot reorder what a line shows", () => {
  assert.equal(printable("evil\u202eredaer\u2066x\u2069"), "evil\\u202eredaer\\u2066x\\u2069");
});

test("the table escapes every cell, and aligns on what it shows", () => {
  const text = table(["NAME", "MODELS"], [["box\x1b[2J", "m\nNAME  forged"], ["b", "x"]]);
  assert.ok(![...text].some((c) => c < " " && c !== "\n"), JSON.stringify(text));
  assert.deepEqual(text.split("\n"), ["NAME        MODELS", "box\\x1b[2J  m\\x0aNAME  forged", "b           x", ""]);
});
