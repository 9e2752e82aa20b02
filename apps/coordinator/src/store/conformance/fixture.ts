// What a store implementation hands the conformance suite: a store on fresh
// data, and the few ways to act on that data that only the implementation
// knows (open it again, read its schema version, break a migration).
import { test } from "node:test";
import type { Store } from "../store.ts";

export interface StoreFixture {
  /** A store on fresh, empty data. */
  readonly store: Store;
  /** Closes the store it opened last, then opens the same data again, as a restarted coordinator does. */
  reopen(): Promise<Store>;
  /** The schema version the data is at. */
  schemaVersion(): Promise<number>;
  /**
   * Closes the store it opened last, then runs the implementation's
   * migrations plus one more that fails after it has written something.
   * Rejects with that failure.
   */
  migrateWithFailure(): Promise<void>;
  /** Closes what is still open and deletes the data. */
  cleanup(): Promise<void>;
}

export type MakeStore = () => Promise<StoreFixture>;

/** A node:test test that gets a fresh fixture and always cleans it up. */
export type FixtureTest = (title: string, body: (fixture: StoreFixture) => Promise<void>) => void;

export function fixtureTest(makeStore: MakeStore): FixtureTest {
  return (title, body) => {
    test(title, async () => {
      const fixture = await makeStore();
      try {
        await body(fixture);
      } finally {
        await fixture.cleanup();
      }
    });
  };
}
