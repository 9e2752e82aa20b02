// Which models an agentless node is routed for, from what it declares and
// what its server reports.
//
// Declaring models filters: an Ollama box with twenty models pulled can
// offer two of them to the cluster. A declared model the server does not
// report is not served — routing to it would only earn a 404 from the
// server — and is named in the node's status so the mistake is visible.
// Declaring nothing serves everything the server reports.
import type { AgentlessKind, ReportedModel } from "./dialect.ts";

export interface ServedSelection {
  models: ReportedModel[];
  /** Declared models the server does not report. */
  missing: string[];
}

export function selectServedModels(kind: AgentlessKind, declared: readonly string[], reported: readonly ReportedModel[]): ServedSelection {
  if (declared.length === 0) return { models: [...reported], missing: [] };
  const models: ReportedModel[] = [];
  const missing: string[] = [];
  for (const id of declared) {
    // Ollama takes `llama3` to mean `llama3:latest` but lists the long form;
    // the declared spelling is what clients will ask for, so it is kept.
    const found = reported.find((r) => r.id === id || (kind === "ollama" && !id.includes(":") && r.id === `${id}:latest`));
    if (found) models.push({ ...found, id });
    else missing.push(id);
  }
  return { models, missing };
}
