// Whether an admin key set by hand (FLOTILLA_ADMIN_KEY) is strong enough to
// guard the whole cluster API. Keys are compared in constant time but can
// still be guessed offline or by trying; a short or repetitive one (`a`,
// `changeme`) must be refused at start, not discovered after a breach.
// The estimate is deliberately simple: length × log2(distinct characters),
// the entropy of a key whose characters were drawn uniformly from the set it
// uses. It over-rates sequences like "abcdef…", but refuses what people
// actually type: short words, repeated characters, repeated words.

export const MIN_ADMIN_KEY_LENGTH = 32;
export const MIN_ADMIN_KEY_BITS = 128;

export function estimatedBits(key: string): number {
  const characters = [...key];
  const distinct = new Set(characters).size;
  return distinct <= 1 ? 0 : characters.length * Math.log2(distinct);
}

/** Why `key` is too weak to be an admin key, or null when it will do. */
export function weakAdminKeyReason(key: string): string | null {
  const length = [...key].length;
  const bits = estimatedBits(key);
  if (length >= MIN_ADMIN_KEY_LENGTH && bits >= MIN_ADMIN_KEY_BITS) return null;
  return (
    `it has ${length} characters and about ${Math.floor(bits)} bits of entropy (length × log2 of its distinct characters); ` +
    `an admin key needs at least ${MIN_ADMIN_KEY_LENGTH} characters and ${MIN_ADMIN_KEY_BITS} bits. ` +
    `Generate one with \`openssl rand -base64 32\`, or unset FLOTILLA_ADMIN_KEY to let the coordinator generate one into its data directory`
  );
}
