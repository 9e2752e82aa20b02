// `flotilla cluster test`: every node, one at a time, answers a tiny
// completion; a table of what each did (or why it failed). Sequential on
// purpose: nodes sharing a machine would otherwise slow each other down and
// the tokens/s would lie. Exits 1 when any node that should answer did not.
import { clusterStatusResponse, nodeTestResult, type NodeTestResult, type PresentedNode } from "@flotilla/protocol";
import { adminRequest, CliError, type ClientTarget } from "../client.ts";
import { table } from "../table.ts";

type Outcome = { node: PresentedNode } & ({ ok: true; result: NodeTestResult } | { ok: false; reason: string });

export async function clusterTest(target: ClientTarget, env: NodeJS.ProcessEnv, json: boolean): Promise<string> {
  const { nodes } = await adminRequest(target, env, "GET", "/cluster/status", clusterStatusResponse);
  const outcomes: Outcome[] = [];
  for (const node of nodes) {
    if (node.models.length === 0) {
      outcomes.push({ node, ok: false, reason: "serves no model" });
      continue;
    }
    try {
      const result = await adminRequest(target, env, "POST", `/cluster/nodes/${encodeURIComponent(node.name)}/test`, nodeTestResult, {});
      outcomes.push({ node, ok: true, result });
    } catch (err) {
      outcomes.push({ node, ok: false, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  const failed = outcomes.filter((o) => !o.ok && o.node.models.length > 0);
  const text = json ? `${JSON.stringify(outcomes.map(toJson), null, 2)}\n` : render(outcomes);
  if (failed.length > 0) {
    process.stdout.write(text);
    throw new CliError(`${failed.length} of ${outcomes.length} nodes failed the test`);
  }
  return text;
}

function toJson(o: Outcome): unknown {
  return o.ok ? { ...o.result, state: o.node.state, ok: true } : { node: o.node.name, state: o.node.state, ok: false, reason: o.reason };
}

function render(outcomes: Outcome[]): string {
  const rows = outcomes.map((o) =>
    o.ok
      ? [
          o.node.name,
          o.node.state,
          o.result.model,
          o.result.firstTokenMs === null ? "-" : `${o.result.firstTokenMs.toFixed(0)} ms`,
          `${o.result.totalMs.toFixed(0)} ms`,
          String(o.result.completionTokens),
          o.result.tokensPerSecond.toFixed(1),
          "ok",
        ]
      : [o.node.name, o.node.state, "-", "-", "-", "-", "-", o.reason],
  );
  if (rows.length === 0) return "no nodes in the cluster\n";
  return table(["NAME", "STATE", "MODEL", "FIRST TOKEN", "TOTAL", "TOKENS", "TOKENS/S", "RESULT"], rows);
}
