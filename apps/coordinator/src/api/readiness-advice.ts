// What /readyz says when no model can be served: advice that fits the process
// and the cluster as they are. `flotilla up` (its own agent in the process)
// loads a model at start; a coordinator alone gets models from agents that
// join it or servers added to it; a cluster that has nodes but no model
// ready needs looking at, not restarting. Pure, so each case is tested.
import type { NodeKind } from "@flotilla/protocol";

export interface NodeFacts {
  kind: NodeKind;
  /** How many models it lists now. */
  models: number;
}

export function readinessAdvice(nodes: readonly NodeFacts[]): string {
  if (nodes.some((n) => n.kind === "local" && n.models === 0) && nodes.every((n) => n.models === 0)) {
    return "no model is loaded: restart with `flotilla up --model PATH.gguf` (or --model hf:owner/repo/file.gguf)";
  }
  if (nodes.length === 0) {
    return (
      "no node has joined this coordinator: on a machine with a model run " +
      "`flotilla agent --join URL --token-file FILE --model PATH.gguf` (FILE holding a token from `flotilla token create`), " +
      "or add a server that runs one with `flotilla cluster add URL`"
    );
  }
  const which = nodes.length === 1 ? "the cluster's only node serves no model" : `none of the cluster's ${nodes.length} nodes serves a model`;
  return `${which} it can take requests for now: \`flotilla cluster status\` shows each node's state and models`;
}
