// How a start-up stage writes down a cycle between its parts (decision-parts.ts):
// a reference to a part that parts built before it call into, bound once it
// exists. The calls it serves happen only once requests flow, long after the
// binding; one made before would fail with a message that names the part,
// not with the ReferenceError of a closure over a `const` declared later.
export class BoundLater<T> {
  readonly #what: string;
  #value: T | undefined;

  constructor(what: string) {
    this.#what = what;
  }

  bind(value: T): void {
    this.#value = value;
  }

  get(): T {
    if (this.#value === undefined) throw new Error(`${this.#what} was called before the coordinator had built it`);
    return this.#value;
  }
}
