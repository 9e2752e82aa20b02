// How a tool answers. A success carries its structured content (checked by
// the SDK against the tool's output schema) and the same as text, for hosts
// that read only text (as the MCP specification asks). A flotilla failure
// — an unknown model, no node free — is a tool result with isError and the
// catalogue's code and message, so the calling model can read and act on
// it; it is not a JSON-RPC error, which hosts treat as the tool breaking.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { FlotillaError } from "@flotilla/protocol";

export function succeeded(structured: Record<string, unknown>, lead?: string): CallToolResult {
  const json = JSON.stringify(structured, null, 2);
  return {
    content: lead === undefined ? [{ type: "text", text: json }] : [{ type: "text", text: lead }, { type: "text", text: json }],
    structuredContent: structured,
  };
}

export function failed(failure: FlotillaError): CallToolResult {
  const retry = failure.retryAfterS === undefined ? "" : ` (try again in ${failure.retryAfterS} s)`;
  return { content: [{ type: "text", text: `${failure.code}: ${failure.message}${retry}` }], isError: true };
}

/** A call whose host cancelled it or hung up: said for the record, as nobody is left to read it. */
export function cancelled(): CallToolResult {
  return { content: [{ type: "text", text: "cancelled: the call was cancelled before its answer" }], isError: true };
}
