// Ollama's error shape, `{"error": "..."}`, for every answer under its paths
// (`/`, `/api/...`): the `ollama` clients read `error` as a string, and an
// OpenAI-shaped body there reaches their users as "[object Object]". The
// status codes stay the catalogue's (errors.ts in the protocol): 400 for a
// bad body, 401 for a key, 404 for an unknown model, 503 when busy — the
// ones Ollama uses for the same failures.
import { FlotillaError, toOpenAIErrorBody } from "@flotilla/protocol";

export interface OllamaErrorBody {
  error: string;
}

/** True for the paths Ollama's API owns on the coordinator. */
export function isOllamaPath(url: string): boolean {
  const path = url.split("?")[0] ?? url;
  return path === "/" || path === "/api" || path.startsWith("/api/");
}

export function toOllamaErrorBody(failure: FlotillaError): OllamaErrorBody {
  return { error: failure.message };
}

/** The error body for a request to `url`: Ollama's shape under its paths, OpenAI's everywhere else. */
export function errorBodyFor(url: string, failure: FlotillaError): OllamaErrorBody | ReturnType<typeof toOpenAIErrorBody> {
  return isOllamaPath(url) ? toOllamaErrorBody(failure) : toOpenAIErrorBody(failure);
}

/** Ollama's own words for a model it does not have, which its clients and users recognise. */
export function ollamaModelNotFound(model: string): FlotillaError {
  return new FlotillaError("model_not_found", `model "${model}" not found, try pulling it first`, { param: "model" });
}

/** Ollama's routes that change which models exist: flotilla's are set by each node's configuration. */
const MODEL_MANAGEMENT = new Set(["/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs"]);

/** The 404 for a path under /api that flotilla does not serve, saying why where there is a reason. */
export function ollamaPathNotFound(method: string, url: string): FlotillaError {
  const path = url.split("?")[0] ?? url;
  const managed = [...MODEL_MANAGEMENT].some((p) => path === p || path.startsWith(`${p}/`));
  return new FlotillaError(
    "not_found",
    managed
      ? `${method} ${path} is not served: flotilla's models are set by each node's configuration, not pulled or created through the API`
      : `Unknown request URL: ${method} ${path}`,
  );
}
