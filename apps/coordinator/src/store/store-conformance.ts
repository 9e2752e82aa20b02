// The behaviour every Store must have, whatever keeps the data: the SQLite
// store runs it (sqlite-store.test.ts), and so will the Redis store. What an
// implementation alone knows (where its data lives, how it migrates) comes
// in through the fixture.
import { describe } from "node:test";
import { fixtureTest, type MakeStore } from "./conformance/fixture.ts";
import { apiKeyRecordsConformance } from "./conformance/api-key-records.ts";
import { joinTokensConformance } from "./conformance/join-tokens.ts";
import { nodeRecordsConformance } from "./conformance/node-records.ts";
import { agentlessNodeRecordsConformance } from "./conformance/agentless-node-records.ts";
import { conversationsConformance } from "./conformance/conversations.ts";
import { durabilityConformance } from "./conformance/durability.ts";

export type { MakeStore, StoreFixture } from "./conformance/fixture.ts";

/** Registers the suite's tests under `name`; `makeStore` gives each test a store on fresh data. */
export function storeConformance(name: string, makeStore: MakeStore): void {
  const test = fixtureTest(makeStore);
  describe(`${name} conforms to the Store interfaces`, () => {
    describe("API keys", () => apiKeyRecordsConformance(test));
    describe("join tokens", () => joinTokensConformance(test));
    describe("nodes", () => nodeRecordsConformance(test));
    describe("agentless nodes", () => agentlessNodeRecordsConformance(test));
    describe("conversations", () => conversationsConformance(test));
    describe("durability", () => durabilityConformance(test));
  });
}
