// A bound on the request bodies a server holds while it receives them, all
// connections together (docs/adr/0033). The body limit bounds one body and
// the per-address limit the connections, but together they still let 50
// connections sending most of a 4 MB body each take ~200 MB, which the
// process's allocator then keeps after they leave (ADR 0023). With a budget
// the bodies being received never hold more than it: a request that
// declares a length takes it up front (and is refused at once, before its
// body is read, when the budget cannot hold it); one sent in chunks takes
// each chunk as it comes. What was taken is given back when the body has
// been parsed, or when the request goes away.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import type { FastifyInstance } from "fastify";

export class BodyBudget {
  readonly maxBytes: number;
  #held = 0;

  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new Error(`a body budget must be a positive whole number of bytes, not ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  get heldBytes(): number {
    return this.#held;
  }

  /** Takes `bytes` if the budget holds them; false (and nothing taken) if not. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.maxBytes) return false;
    this.#held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
  }
}

/** What the hooks read of a request (Fastify's request has both). */
export interface BudgetedRequest {
  headers: IncomingHttpHeaders;
  raw: IncomingMessage;
}

/**
 * Fastify's preParsing and preValidation hooks. preParsing runs after every
 * onRequest hook, so a request its key check refused takes nothing.
 */
export interface BodyBudgetHooks {
  /**
   * Takes a declared length (or throws `refuse()`), or counts the chunks of
   * a body sent without one. `closeAfter` is called before a refusal: the
   * connection is closed once it is answered, rather than read to its end.
   */
  preParsing(request: BudgetedRequest, payload: Readable, closeAfter?: () => void): Readable;
  /** The body is parsed: what it took is given back. */
  preValidation(request: BudgetedRequest): void;
}

/**
 * `bodyLimit`: one body's limit. A declared length over it takes nothing:
 * the server refuses it itself (413, the client's fault), and a 503 there
 * would tell the client to retry what can never be taken.
 */
export function bodyBudgetHooks(budget: BodyBudget, refuse: () => Error, bodyLimit = Number.POSITIVE_INFINITY): BodyBudgetHooks {
  const taken = new WeakMap<IncomingMessage, { bytes: number }>();
  const giveBack = (raw: IncomingMessage) => {
    const held = taken.get(raw);
    if (!held) return;
    budget.give(held.bytes);
    held.bytes = 0;
  };
  const account = (raw: IncomingMessage): { bytes: number } => {
    let held = taken.get(raw);
    if (!held) {
      held = { bytes: 0 };
      taken.set(raw, held);
      // Whatever happens to the request (parsed, refused, cut off), the budget gets its bytes back.
      raw.once("close", () => giveBack(raw));
    }
    return held;
  };
  return {
    preParsing(request, payload, closeAfter) {
      const declared = declaredLength(request.headers);
      if (declared !== undefined) {
        if (declared === 0 || declared > bodyLimit) return payload;
        if (!budget.take(declared)) {
          closeAfter?.();
          throw refuse();
        }
        account(request.raw).bytes += declared;
        return payload;
      }
      const held = account(request.raw);
      return payload.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
            if (!budget.take(chunk.length)) {
              closeAfter?.();
              done(refuse());
              return;
            }
            held.bytes += chunk.length;
            done(null, chunk);
          },
        }),
      );
    },
    preValidation(request) {
      giveBack(request.raw);
    },
  };
}

/** The Content-Length a request declares; undefined when it sends chunks (or declares nothing readable). */
function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers["content-length"];
  if (value === undefined) return undefined;
  const bytes = Number(value);
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}

/** The budget on a Fastify app: its preParsing and preValidation hooks, with `refuse` as the refusal (the API's own error). */
export function budgetBodies(app: FastifyInstance, maxBytes: number, refuse: () => Error): void {
  const hooks = bodyBudgetHooks(new BodyBudget(maxBytes), refuse, app.initialConfig.bodyLimit);
  app.addHook("preParsing", (request, reply, payload, done) => {
    try {
      done(null, hooks.preParsing(request, payload, () => void reply.header("connection", "close")));
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
    }
  });
  app.addHook("preValidation", (request, _reply, done) => {
    hooks.preValidation(request);
    done();
  });
}
