// The Node floor: the least a Node reverse proxy can do, for comparison with
// flotilla (`node bench/node-floor.ts UPSTREAM_URL`). node:http in front,
// undici's keep-alive pool behind, bodies piped through both ways unparsed,
// hop-by-hop headers dropped. Prints `listening PORT` once it listens.
import http from "node:http";
import { pipeline } from "node:stream/promises";
import { Agent, request } from "undici";

const upstream = process.argv[2] ?? "http://127.0.0.1:1";
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

function endToEnd<T>(headers: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

const server = http.createServer((req, res) => {
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  request(upstream + (req.url ?? "/"), { method, headers: endToEnd(req.headers), body: hasBody ? req : null, dispatcher })
    .then(async (answer) => {
      res.writeHead(answer.statusCode, endToEnd(answer.headers));
      await pipeline(answer.body, res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address !== null && typeof address === "object") process.stdout.write(`listening ${address.port}\n`);
});
