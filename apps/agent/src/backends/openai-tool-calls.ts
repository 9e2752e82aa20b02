// A program's streamed tool call pieces → flotilla's tool_call chunks, and
// the calls the answer ends with (as the coordinator's agentless nodes
// assemble them, apps/coordinator/src/nodes/agentless/tool-call-assembly.ts).
import type { Chunk, FinishReason, ToolCall } from "@flotilla/protocol";
import type { ToolCallPiece } from "./openai-wire.ts";

export class ToolCallAssembly {
  readonly #onChunk: ((chunk: Chunk) => void) | undefined;
  readonly #calls = new Map<number, ToolCall>();

  constructor(onChunk: ((chunk: Chunk) => void) | undefined) {
    this.#onChunk = onChunk;
  }

  add(piece: ToolCallPiece): void {
    const { index, argumentsDelta } = piece;
    const call = this.#calls.get(index);
    if (call === undefined) {
      // A program that leaves out an id or a name on a call's first piece is answered with what can be made of it.
      const fresh = { id: piece.id ?? `call_${index}`, name: piece.name ?? "", arguments: argumentsDelta };
      this.#calls.set(index, fresh);
      this.#onChunk?.({ type: "tool_call", index, id: fresh.id, ...(fresh.name === "" ? {} : { name: fresh.name }), argumentsDelta });
      return;
    }
    if (piece.name !== undefined && call.name === "") call.name = piece.name;
    call.arguments += argumentsDelta;
    if (argumentsDelta !== "") this.#onChunk?.({ type: "tool_call", index, argumentsDelta });
  }

  /** The calls in order, and the finish reason: a program that made calls but said "stop" made tool calls. */
  result(finishReason: FinishReason): { finishReason: FinishReason; toolCalls?: ToolCall[] } {
    if (this.#calls.size === 0) return { finishReason };
    const toolCalls = [...this.#calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
    return { finishReason: finishReason === "stop" ? "tool_calls" : finishReason, toolCalls };
  }
}
