// Column values as SQLite keeps them, read back into the records' types.

/** A stored tier; anything unexpected reads as the middle tier rather than failing the whole list. */
export function tierOf(value: number): 0 | 1 | 2 {
  return value === 0 || value === 2 ? value : 1;
}

/** SQLite has no boolean column type: flags are 0 and 1. */
export function flag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}
