// Every route an HTTP app registers, recorded as it is added, so a test can
// walk the whole table and check that each one asks for a credential
// (tests/e2e/deny-by-default.test.ts). Fastify has no public list of routes.
// Typed structurally, so this package needs no Fastify dependency.

export interface RouteEntry {
  /** Upper case; a route registered for several methods gives one entry each. */
  readonly method: string;
  /** The full path, with its prefix and `:param` placeholders. */
  readonly url: string;
}

interface RouteSource {
  addHook(name: "onRoute", hook: (route: { method: string | readonly string[]; url: string }) => void): unknown;
}

const tables = new WeakMap<object, RouteEntry[]>();

/**
 * Records every route `app` (and any plugin registered on it later) adds from
 * now on, including the HEAD routes Fastify adds for GET: call it first thing.
 */
export function recordRoutes(app: RouteSource): void {
  const routes: RouteEntry[] = [];
  tables.set(app, routes);
  app.addHook("onRoute", (route) => {
    const methods = typeof route.method === "string" ? [route.method] : route.method;
    for (const method of methods) routes.push({ method: method.toUpperCase(), url: route.url });
  });
}

/**
 * The routes recorded for `app`, in registration order. Routes in plugins are
 * added when the app loads them: await `app.ready()` first.
 */
export function routesOf(app: object): readonly RouteEntry[] {
  const routes = tables.get(app);
  if (routes === undefined) throw new Error("routesOf: recordRoutes was never called on this app");
  return [...routes];
}
