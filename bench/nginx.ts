// nginx as the reference proxy: Debian's package (installed by quick and full
// runs when missing, never by smoke runs), run with a generated config in a
// temporary directory — one worker, keep-alive to the upstream, no
// buffering (so SSE passes at once), no access log.
import { spawn } from "node:child_process";
import { access, chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, stopChild } from "@flotilla/testkit";
import { pidOf, waitForPort, type Started } from "./processes.ts";
import type { Mode } from "./report.ts";

const NGINX = "/usr/sbin/nginx";

/** Whether nginx can be run, or why not. */
export async function ensureNginx(mode: Mode): Promise<{ ok: true } | { ok: false; why: string }> {
  if (await exists(NGINX)) return { ok: true };
  if (mode === "smoke") return { ok: false, why: "nginx not installed (smoke runs install nothing)" };
  process.stderr.write("bench: installing nginx (apt-get install -y nginx)\n");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => run("apt-get", ["install", "-y", "-q", "nginx"], env);
  if (!(await install()) && !((await run("apt-get", ["update", "-q"], env)) && (await install()))) {
    return { ok: false, why: "nginx unavailable (apt-get install nginx failed)" };
  }
  return (await exists(NGINX)) ? { ok: true } : { ok: false, why: "nginx unavailable (not found after install)" };
}

export async function startNginx(upstreamPort: number): Promise<Started> {
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-bench-nginx-"));
  // Run as root, nginx's worker drops to `nobody`, which must reach the directory.
  await chmod(dir, 0o755);
  const port = await freePort();
  const conf = `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream mock {
    server 127.0.0.1:${upstreamPort};
    keepalive 32;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`;
  await writeFile(path.join(dir, "nginx.conf"), conf);
  const child = spawn(NGINX, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "inherit"] });
  const stop = async () => {
    await stopChild(child, 2_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: pidOf(child), port, stop };
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}
