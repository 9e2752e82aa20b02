// OpenAI-style turns → node-llama-cpp's chat history, which the model's own
// chat template (node-llama-cpp's chat wrapper for it) renders.
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import type { ChatTurn } from "@flotilla/protocol";

/**
 * The history ends with an open model turn: an empty one, or the
 * assistant's own last message when the client sent one, which the model
 * then continues. A tool call and its result are one history item, as
 * node-llama-cpp keeps them; the model's answer after the results
 * continues the same model turn, as it would had it called them itself.
 */
export function toChatHistory(turns: readonly ChatTurn[]): ChatHistoryItem[] {
  const results = new Map<string, string>();
  for (const turn of turns) if (turn.role === "tool") results.set(turn.toolCallId, turn.content);

  const history: ChatHistoryItem[] = [];
  for (const turn of turns) {
    switch (turn.role) {
      case "system":
        history.push({ type: "system", text: turn.content });
        break;
      case "user":
        history.push({ type: "user", text: turn.content });
        break;
      case "assistant": {
        const response: ChatModelResponse["response"] = [];
        if (turn.content !== "") response.push(turn.content);
        for (const call of turn.toolCalls ?? []) response.push(functionCall(call.name, call.arguments, results.get(call.id)));
        const last = history.at(-1);
        // Only tool results came between this turn and a model turn that called tools: it goes on.
        if (last?.type === "model" && last.response.some((item) => typeof item === "object" && item.type === "functionCall")) {
          last.response.push(...response);
        } else {
          history.push({ type: "model", response });
        }
        break;
      }
      case "tool":
        // Folded into the call it answers (above).
        break;
    }
  }
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

function functionCall(name: string, args: string, result: string | undefined): ChatModelFunctionCall {
  return { type: "functionCall", name, params: parsedOrText(args), result: result === undefined ? null : parsedOrText(result) };
}

/** JSON is given to the template as values (it renders them itself); anything else as the text it is. */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
