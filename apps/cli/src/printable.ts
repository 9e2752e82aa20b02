// Text from the network (a node's model ids and GPU names, error messages,
// a model's answer) goes to a terminal, which obeys control characters: a
// node could clear the operator's screen, set the window title, rewrite
// table lines it does not own, or move the cursor over a warning. Every line
// of remote data the CLI prints goes through printable(); --json output does
// not, JSON escapes them itself.

/**
 * C0 controls, DEL, C1 controls (0x9B is CSI to many terminals), the Unicode
 * line and paragraph separators, and the bidirectional overrides and
 * isolates that make a line display in another order than it reads.
 */
function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/**
 * `text` with every control character written as a visible escape (`\x1b`,
 * `\u202e`). With `lines`, newlines and tabs stay (a model's answer has
 * lines); without, they are escaped too (a table cell, a one-line message).
 * Pure.
 */
export function printable(text: string, options: { lines?: boolean } = {}): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (!isControl(code) || (options.lines === true && (char === "\n" || char === "\t"))) out += char;
    else out += code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}
