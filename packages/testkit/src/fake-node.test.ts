// The named fake keeps the node contract: the same suite the real kinds pass.
import { FakeNode } from "./fake-node.ts";
import { nodeConformance } from "./node-conformance.ts";

nodeConformance("FakeNode", {
  start: () => {
    const node = new FakeNode("fake");
    return Promise.resolve({ node, model: node.model });
  },
  stop: () => Promise.resolve(),
  exactUsage: true,
  forcesToolCalls: true,
});
