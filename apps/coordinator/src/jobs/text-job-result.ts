// What a text job (chat, completion, embedding) keeps as its result: the
// answer exactly as /v1 would have sent it, so a client reads a job's result
// with the same code as a direct answer, and a batch writes it into its
// output file as it is (docs/adr/0035).
export interface TextJobResult {
  /** The /v1 response body: a chat.completion, a text_completion or an embedding list. */
  response: unknown;
  /** The nodes that answered, in order (more than one only when the answer was resumed). */
  nodes: string[];
}

/** The nodes of a stored result, or none when it is not a text job's. */
export function nodesOfResult(result: unknown): string[] {
  if (typeof result !== "object" || result === null || !("nodes" in result)) return [];
  const { nodes } = result;
  return Array.isArray(nodes) ? nodes.filter((n): n is string => typeof n === "string") : [];
}
