// A server's tool call pieces → flotilla's tool_call chunks and the calls
// the answer ends with. OpenAI-style servers number their pieces; Ollama
// sends each call whole, unnumbered, and is given the next number.
import type { Chunk, FinishReason, ToolCall } from "@flotilla/protocol";
import type { ToolCallPiece } from "./dialect.ts";

interface Assembling {
  id: string;
  name: string;
  arguments: string;
}

export class ToolCallAssembly {
  readonly #onChunk: ((chunk: Chunk) => void) | undefined;
  readonly #calls = new Map<number, Assembling>();

  constructor(onChunk: ((chunk: Chunk) => void) | undefined) {
    this.#onChunk = onChunk;
  }

  add(piece: ToolCallPiece): void {
    const index = piece.index ?? this.#calls.size;
    const call = this.#calls.get(index);
    if (call === undefined) {
      // A server that leaves out an id or a name on a call's first piece is answered with what can be made of it.
      const fresh = { id: piece.id ?? `call_${index}`, name: piece.name ?? "", arguments: piece.argumentsDelta };
      this.#calls.set(index, fresh);
      this.#onChunk?.({ type: "tool_call", index, id: fresh.id, ...(fresh.name === "" ? {} : { name: fresh.name }), argumentsDelta: piece.argumentsDelta });
      return;
    }
    if (piece.name !== undefined && call.name === "") call.name = piece.name;
    call.arguments += piece.argumentsDelta;
    if (piece.argumentsDelta !== "") this.#onChunk?.({ type: "tool_call", index, argumentsDelta: piece.argumentsDelta });
  }

  /** The calls in order, and the finish reason: a server that made calls but said "stop" (Ollama does) made tool calls. */
  result(finishReason: FinishReason): { finishReason: FinishReason; toolCalls?: ToolCall[] } {
    if (this.#calls.size === 0) return { finishReason };
    const toolCalls = [...this.#calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => ({ id: c.id, name: c.name, arguments: c.arguments }));
    return { finishReason: finishReason === "stop" ? "tool_calls" : finishReason, toolCalls };
  }
}
