// Routes whose body is optional take an empty one as none. Several HTTP
// clients send `content-type: application/json` with no body on a DELETE or a
// bodiless POST, which a JSON parser would refuse as invalid JSON. Where a body
// is required (/v1, /cluster/execute, adding a node) an empty one stays a 400
// invalid_json: "no body" there is the client's mistake, said as such.

/** POST routes that act on their URL alone, a body only refining them. */
const OPTIONAL_BODY_POSTS: ReadonlySet<string> = new Set([
  "/cluster/nodes/:name/drain",
  "/cluster/nodes/:name/undrain",
  "/cluster/nodes/:name/test",
  "/cluster/tokens",
  "/v1/jobs/:id/cancel",
  "/v1/batches/:id/cancel",
  "/cluster/roamers/:name/release",
]);

/** `routeUrl`: the route's pattern (`/cluster/nodes/:name`), not the request's path. */
export function bodyIsOptional(method: string, routeUrl: string | undefined): boolean {
  if (method === "DELETE") return true;
  return method === "POST" && routeUrl !== undefined && OPTIONAL_BODY_POSTS.has(routeUrl);
}
