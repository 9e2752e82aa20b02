// The container and nomad entries of an agent's `templates:`, and a process entry's `serve`: what they
// default to, and what they refuse, with the field named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { workloadTemplate, workloadTemplates } from "./template-config.ts";

/** The first issue of a refused entry: its field's path and message. */
function refusal(entry: unknown): { path: string; message: string } {
  const parsed = workloadTemplate.safeParse(entry);
  assert.equal(parsed.success, false, `accepted ${JSON.stringify(entry)}`);
  const issue = parsed.error?.issues[0];
  return { path: issue?.path.join(".") ?? "", message: issue?.message ?? "" };
}

const container = { driver: "container", image: "registry.lan:5000/comfyui:1", health: "http://127.0.0.1:8188/" };
const nomad = { driver: "nomad", job: "/etc/flotilla/jobs/comfyui.json", health: "http://gpu-box.lan:8188/" };

test("a container entry takes the defaults: podman, pull missing, 120 s to start, 10 s to stop", () => {
  assert.deepEqual(workloadTemplate.parse(container), {
    ...container,
    engine: "/usr/bin/podman",
    pull: "missing",
    pullTimeoutMs: 1_800_000,
    startTimeoutMs: 120_000,
    stopGraceMs: 10_000,
  });
  const full = {
    ...container,
    engine: "/usr/bin/docker",
    engineArgs: ["--context", "lan"],
    engineEnv: { DOCKER_CONFIG: "/etc/flotilla/docker" },
    image: "localhost/flotilla-test:latest",
    command: ["/bin/serve", "127.0.0.1:8188"],
    env: { CUDA_VISIBLE_DEVICES: "0" },
    pull: "never",
  };
  assert.equal(workloadTemplate.parse(full).driver, "container");
});

test("a container entry is refused, naming the field: a relative engine, a non-loopback health URL, an image that reads as a flag", () => {
  assert.deepEqual(refusal({ ...container, engine: "podman" }), { path: "engine", message: "must be an absolute path (the engine's CLI, e.g. /usr/bin/podman)" });
  assert.deepEqual(refusal({ ...container, health: "http://10.0.0.5:8188/" }), { path: "health", message: "must be a loopback URL (127.0.0.0/8, [::1] or localhost)" });
  assert.equal(refusal({ ...container, image: "--privileged" }).path, "image");
  assert.equal(refusal({ ...container, image: "comfy ui" }).path, "image");
  assert.equal(refusal({ ...container, pull: "always" }).path, "pull");
  assert.equal(refusal({ ...container, env: { "NOT-A-NAME": "x" } }).path, "env.NOT-A-NAME");
  assert.equal(refusal({ ...container, engineArgs: [""] }).path, "engineArgs.0");
  assert.equal(refusal({ ...container, privileged: true }).message.includes("privileged"), true, "an unknown key is refused by name");
});

test("a nomad entry takes the defaults: the local Nomad agent, 300 s to start, 30 s to stop", () => {
  assert.deepEqual(workloadTemplate.parse(nomad), { ...nomad, address: "http://127.0.0.1:4646", startTimeoutMs: 300_000, stopGraceMs: 30_000 });
  assert.equal(workloadTemplate.parse({ ...nomad, address: "https://nomad.lan:4646", tokenEnv: "NOMAD_TOKEN" }).driver, "nomad");
});

test("a nomad entry is refused, naming the field: a job file that is not a path, an address that is not http, a token variable that is no name", () => {
  assert.deepEqual(refusal({ ...nomad, job: "comfyui.json" }), { path: "job", message: "must be an absolute path to a JSON job file" });
  assert.deepEqual(refusal({ ...nomad, job: '{"Job": {"ID": "x"}}' }), { path: "job", message: "must be an absolute path to a JSON job file" });
  assert.equal(refusal({ ...nomad, address: "ftp://nomad.lan" }).path, "address");
  assert.equal(refusal({ ...nomad, tokenEnv: "the token" }).path, "tokenEnv");
  assert.equal(refusal({ ...nomad, health: "not a url" }).path, "health");
  // A job spec in the agent's config file is no template: the job is a file of the agent's own.
  assert.equal(refusal({ ...nomad, spec: { Job: { ID: "x" } } }).message.includes("spec"), true);
});

test("`templates:` takes all four kinds side by side", () => {
  const templates = workloadTemplates.parse({
    brain: { driver: "llama", model: "stories260K", source: "/srv/models/stories260K.gguf" },
    comfyui: container,
    "comfyui-nomad": nomad,
    echo: { driver: "process", command: ["/usr/bin/python3", "-m", "http.server", "9000"], health: "http://127.0.0.1:9000/" },
  });
  assert.deepEqual(Object.keys(templates).sort(), ["brain", "comfyui", "comfyui-nomad", "echo"]);
});

const served = {
  driver: "process",
  command: ["/usr/local/bin/llama-server", "--port", "9300"],
  health: "http://127.0.0.1:9300/health",
  serve: { url: "http://127.0.0.1:9300", models: [{ id: "qwen-small" }] },
};

test("a process entry's serve takes the defaults: chat, a 4096-token window, one slot", () => {
  const parsed = workloadTemplate.parse(served);
  assert.equal(parsed.driver, "process");
  assert.deepEqual(parsed.driver === "process" ? parsed.serve : undefined, {
    url: "http://127.0.0.1:9300",
    models: [{ id: "qwen-small", capabilities: ["chat"], contextSize: 4096, slots: 1 }],
  });
  const full = { ...served, serve: { url: "http://localhost:9300/v1", models: [{ id: "qwen-small", capabilities: ["chat", "json"], contextSize: 8192, slots: 4, upstreamModel: "x.gguf" }, { id: "emb", capabilities: ["embed"] }] } };
  assert.equal(workloadTemplate.parse(full).driver, "process");
});

test("a process entry's serve is refused, naming the field: a non-loopback URL, a model listed twice, capabilities it cannot serve", () => {
  const withServe = (serve: object) => ({ ...served, serve: { ...served.serve, ...serve } });
  assert.deepEqual(refusal(withServe({ url: "http://10.0.0.5:9300" })), { path: "serve.url", message: "must be a loopback URL (127.0.0.0/8, [::1] or localhost)" });
  assert.deepEqual(refusal(withServe({ models: [{ id: "a" }, { id: "b" }, { id: "a" }] })), { path: "serve.models.2.id", message: '"a" is listed twice' });
  assert.equal(refusal(withServe({ models: [] })).path, "serve.models");
  assert.equal(refusal(withServe({ models: [{ id: "a", capabilities: ["chat", "vision"] }] })).path, "serve.models.0.capabilities.1");
  assert.deepEqual(refusal(withServe({ models: [{ id: "a", capabilities: ["chat", "tts"] }] })), {
    path: "serve.models.0.capabilities.1",
    message: '"tts" is not served from a program yet (chat, json, tools and embed are)',
  });
  assert.equal(refusal(withServe({ models: [{ id: "a", capabilities: ["chat", "chat"] }] })).path, "serve.models.0.capabilities");
  assert.equal(refusal(withServe({ models: [{ id: "-bad" }] })).path, "serve.models.0.id");
  assert.equal(refusal(withServe({ models: [{ id: "a", slots: 0 }] })).path, "serve.models.0.slots");
  assert.equal(refusal(withServe({ url: "ftp://127.0.0.1/" })).path, "serve.url");
  assert.equal(refusal(withServe({ token: "x" })).message.includes("token"), true, "an unknown key is refused by name");
});
