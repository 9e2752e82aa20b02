// The pools and roamers in the cluster API (issue 17, docs/adr/0040), admin
// only like the rest of /cluster: what each pool has and waits for, each
// roamer's state, and the seed's "Assign roamer" dialog as two routes.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { assignRoamerRequest, nodeName, type PoolsResponse, type RoamersResponse, type RoamerView } from "@flotilla/protocol";
import type { RoamerController } from "../pools/roamer-controller.ts";
import { parseBody } from "../gateway/validate.ts";

const nameParams = z.object({ name: nodeName });

export function registerPoolRoutes(app: FastifyInstance, roamers: RoamerController): void {
  app.get("/cluster/pools", async (): Promise<PoolsResponse> => ({ pools: await roamers.poolViews() }));

  app.get("/cluster/roamers", (): RoamersResponse => ({ roamers: roamers.views() }));

  app.post("/cluster/roamers/:name/assign", (request, reply): RoamerView => {
    const { name } = parseBody(nameParams, request.params);
    const body = parseBody(assignRoamerRequest, request.body ?? {});
    const view = roamers.assign(name, body);
    // Accepted: the roamer provisions from here; GET /cluster/roamers shows it move.
    // (A reply is thenable: awaiting it would wait for the answer this returns.)
    void reply.code(202);
    return view;
  });

  app.post("/cluster/roamers/:name/release", (request, reply): RoamerView => {
    const { name } = parseBody(nameParams, request.params);
    const view = roamers.release(name);
    void reply.code(202);
    return view;
  });
}
