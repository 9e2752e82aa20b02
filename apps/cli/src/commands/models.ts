// `flotilla models add|list|remove`: the coordinator's model store
// (docs/adr/0042), from which agents pull the files of `store:NAME`
// templates. `add` streams the file as the raw body of one PUT, hashing it
// as it goes, and checks that the coordinator stored the bytes it was sent.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InvalidArgumentError, type Command } from "commander";
import { addModelResponse, isStoredModelName, noContent, STORED_MODEL_NAME_RULE, storedModelName, storedModelsResponse, type StoredModel } from "@flotilla/protocol";
import { adminAnswer, adminKeyFor, adminRequest, CliError, refusal, safeJson, type ClientTarget } from "../client.ts";
import { table } from "../table.ts";
import { printable } from "../printable.ts";

interface ClientFlags {
  url?: string;
  dataDir?: string;
}

export interface ModelCommandContext {
  withClientFlags: (command: Command) => Command;
  targetOf: (flags: ClientFlags) => ClientTarget;
  env: NodeJS.ProcessEnv;
}

const checkedName = (text: string) => {
  const parsed = storedModelName.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`not a model name: ${STORED_MODEL_NAME_RULE}`);
  return parsed.data;
};

export function defineModelCommands(program: Command, context: ModelCommandContext): void {
  const { withClientFlags, targetOf, env } = context;
  const models = program.command("models").description("the coordinator's model store, which agents pull `store:NAME` templates from: add, list, remove");

  withClientFlags(models.command("add").description("store a model file on the coordinator, under its name (default: the file's, without .gguf)").argument("<file>", "the GGUF file"))
    .option("--name <name>", "the name agents ask for (store:NAME)", checkedName)
    .option("--json", "machine-readable output")
    .action(async (file: string, flags: ClientFlags & { name?: string; json?: boolean }) => {
      const name = flags.name ?? path.basename(file).replace(/\.gguf$/i, "");
      if (!isStoredModelName(name)) throw new CliError(`"${name}" cannot be a model's name (${STORED_MODEL_NAME_RULE}): pass --name`);
      const added = await addModel(targetOf(flags), env, name, file);
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(added.json, null, 2)}\n`);
        return;
      }
      const { model, deduplicated, replacedSha256 } = added.data;
      const how = deduplicated ? "the same bytes were already stored" : replacedSha256 !== null ? `replaced sha256 ${replacedSha256}` : "new";
      process.stdout.write(`${printable(`stored ${model.name}: sha256 ${model.sha256}, ${megabytes(model.size)} (${how}); templates name it source: store:${model.name}`)}\n`);
    });

  withClientFlags(models.command("list").description("every stored model: its name, sha256, size and when it was added"))
    .option("--json", "machine-readable output")
    .action(async (flags: ClientFlags & { json?: boolean }) => {
      const { data, json } = await adminAnswer(targetOf(flags), env, "GET", "/cluster/models", storedModelsResponse);
      process.stdout.write(flags.json === true ? `${JSON.stringify(json, null, 2)}\n` : modelTable(data.models));
    });

  withClientFlags(models.command("remove").description("forget a stored model (agents keep the copies they pulled)").argument("<name>", "the model", checkedName))
    .action(async (name: string, flags: ClientFlags) => {
      await adminRequest(targetOf(flags), env, "DELETE", `/cluster/models/${encodeURIComponent(name)}`, noContent);
      process.stderr.write(`${printable(`removed ${name} from the model store`)}\n`);
    });
}

/** Streams `file` to `PUT /cluster/models/{name}`, hashing what it sends, and checks the answer against that hash. */
async function addModel(target: ClientTarget, env: NodeJS.ProcessEnv, name: string, file: string) {
  const info = await stat(file).catch((err: unknown) => {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  });
  if (!info.isFile()) throw new CliError(`${file} is not a file`);
  if (info.size === 0) throw new CliError(`${file} is empty`);
  const key = await adminKeyFor(target, env);
  const url = new URL(`/cluster/models/${encodeURIComponent(name)}`, target.url);
  const hash = createHash("sha256");
  const progress = uploadProgress(name, info.size);
  let sent = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      sent += chunk.length;
      progress(sent);
      callback(null, chunk);
    },
  });
  // node:http rather than fetch: no client timeout may cut an upload of gigabytes that is still moving.
  const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
    method: "PUT",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream", "content-length": String(info.size) },
  });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
  // A refusal can come before the whole file is sent, and then the sending breaks: the answer says why.
  const sending = pipeline(createReadStream(file), tap, request).then(
    () => undefined,
    (err: unknown) => err,
  );
  let response: IncomingMessage;
  let text = "";
  try {
    response = await answered;
    for await (const chunk of response) text += String(chunk);
  } catch (err) {
    throw new CliError(`the upload to ${target.url} failed: ${(err as Error).message}; is the coordinator running?`);
  }
  const parsed = safeJson(text);
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    // Refused: what is left of the file need not be sent.
    request.destroy();
    throw refusal(status, parsed, text);
  }
  const sendError = await sending;
  if (sendError !== undefined) throw new CliError(`the upload to ${target.url} failed: ${(sendError as Error).message}`);
  const answer = addModelResponse.safeParse(parsed);
  if (!answer.success) throw new CliError("the coordinator answered something this CLI does not understand — is it a different version?");
  const sentSha256 = hash.digest("hex");
  if (answer.data.model.sha256 !== sentSha256) {
    throw new CliError(`the coordinator stored other bytes than were sent (sha256 ${answer.data.model.sha256}, sent ${sentSha256}): \`flotilla models remove ${name}\` and add it again`);
  }
  return { data: answer.data, json: parsed };
}

/** Upload progress on stderr, a line every 10%. */
function uploadProgress(name: string, total: number): (sent: number) => void {
  let lastDecile = -1;
  return (sent) => {
    const decile = Math.floor((sent / total) * 10);
    if (decile === lastDecile) return;
    lastDecile = decile;
    process.stderr.write(`${printable(`uploading ${name}: ${megabytes(sent)} of ${megabytes(total)}`)}\n`);
  };
}

function modelTable(models: readonly StoredModel[]): string {
  if (models.length === 0) return "no models stored: `flotilla models add FILE` adds one\n";
  const rows = models.map((m) => [m.name, m.sha256, megabytes(m.size), new Date(m.addedAtMs).toISOString()]);
  return table(["NAME", "SHA256", "SIZE", "ADDED"], rows);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

