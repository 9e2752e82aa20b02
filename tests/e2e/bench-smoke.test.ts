// The benchmark code must keep working: its smoke mode runs every suite for a
// few seconds. Only that it runs and reports is checked here, never a timing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { REPO_ROOT } from "@flotilla/testkit";

test("npm run bench -- --mode smoke runs every suite and prints its table", async () => {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bench/bench.ts"), "--mode", "smoke"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(stdout, /\| footprint \| agent idle RSS, no model \| \d+\.\d MB \(own \d+\.\d MB\) \|/);
  assert.match(stdout, /\| footprint \| coordinator RSS, 10 nodes heartbeating \| \d+\.\d MB \(own \d+\.\d MB\) \|/);

  // Gateway and streaming: every load point has its rows, with a figure for
  // the Node floor and flotilla (nginx is "not measured" where it is not installed).
  const figure = String.raw`(?:[+-]?\d+(?:\.\d+)? (?:µs|ms)|not answered)`;
  const three = String.raw`(?:${figure}|not measured) / ${figure} / ${figure}`;
  const points = ["1 at a time", ...["25", "50", "75"].map((share) => String.raw`open loop \d+ req/s \(${share}%\)`)];
  for (const point of points) {
    assert.match(stdout, new RegExp(String.raw`\| gateway \| ${point}: direct p50 \| ${figure} \|`));
    assert.match(stdout, new RegExp(String.raw`\| gateway \| ${point}: added p50 \(nginx / floor / flotilla\) \| ${three} \|`));
    assert.match(stdout, new RegExp(String.raw`\| gateway \| ${point}: added p99 \(nginx / floor / flotilla\) \| ${three} \|`));
    assert.match(stdout, new RegExp(String.raw`\| gateway \| ${point}: flotilla ÷ node floor, added p50 \| (?:-?\d+\.\d\d×|∞|n/a) \|`));
  }
  assert.match(stdout, /\| gateway \| 1 at a time: proxy CPU per request \(nginx \/ floor \/ flotilla\) \| (?:\d+ µs|not measured) \/ \d+ µs \/ \d+ µs \|/);
  assert.match(stdout, /\| gateway \| closed loop of 16 connections, requests answered \(the rates below are shares of (?:nginx|floor)'s\) \(nginx \/ floor \/ flotilla\) \| (?:\d+\/s|not measured) \/ \d+\/s \/ \d+\/s \|/);
  assert.match(stdout, new RegExp(String.raw`\| streaming \| added TTFT p99 \(nginx / floor / flotilla\) \| ${three} \|`));
  assert.match(stdout, new RegExp(String.raw`\| streaming \| added gap per chunk p99 \(nginx / floor / flotilla\) \| ${three} \|`));
  assert.match(stdout, /\| streaming \| chunks lost or merged, of \d+ \(nginx \/ floor \/ flotilla\) \| (?:\d+|not measured) \/ \d+ \/ \d+ \|/);
  // Routing cost, heartbeat scale, real inference, failover: each reports its figures.
  assert.match(stdout, /\| routing \| route\(\) at 10,000 nodes: p99 \| \d+\.\d\d µs \|/);
  assert.match(stdout, /\| routing \| p99 at 10,000 nodes ÷ p99 at 100 nodes \| \d+\.\d\d× \|/);
  assert.match(stdout, /\| heartbeats \| 50 nodes, [^|]*: coordinator CPU, share of one core \| \d+\.\d% \|/);
  assert.match(stdout, /\| heartbeats \| 50 nodes, [^|]*: heartbeats not answered 200 [^|]*\| 0 of \d+ \|/);
  assert.match(stdout, /\| real inference \| 1 stream: flotilla ÷ direct, tokens\/s \| \d+\.\d\d× \|/);
  assert.match(stdout, /\| real inference \| 8 concurrent streams: flotilla ÷ direct, tokens\/s \| \d+\.\d\d× \|/);
  assert.match(stdout, /\| failover \| kill -9: client errors \(non-streaming\), of the requests during the phase \| \d+ of \d+ \|/);
  assert.match(stdout, /\| streaming \| concurrent streams flotilla keeps at pace \(8 × 5 ms; steady gap p99 ≤ 10 ms\) \| (?:≥ )?\d+; /);
});
