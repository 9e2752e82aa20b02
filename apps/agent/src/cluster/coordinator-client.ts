// The agent's calls to its coordinator: join once, then heartbeat.
import {
  heartbeatResponse,
  joinResponse,
  type Heartbeat,
  type HeartbeatResponse,
  type JoinRequest,
  type JoinResponse,
} from "@flotilla/protocol";
import type { z } from "zod";

export class CoordinatorRefused extends Error {
  override name = "CoordinatorRefused";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function call<T extends z.ZodType>(url: string, bearer: string, body: unknown, schema: T): Promise<z.infer<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    redirect: "error",
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new CoordinatorRefused(response.status, `the coordinator answered ${response.status}: ${message}`);
  }
  return schema.parse(JSON.parse(text));
}

export function join(coordinatorUrl: string, token: string, request: JoinRequest): Promise<JoinResponse> {
  return call(new URL("/cluster/join", coordinatorUrl).href, token, request, joinResponse);
}

export function sendHeartbeat(coordinatorUrl: string, credential: string, beat: Heartbeat): Promise<HeartbeatResponse> {
  return call(new URL("/cluster/heartbeat", coordinatorUrl).href, credential, beat, heartbeatResponse);
}
