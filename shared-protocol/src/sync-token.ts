/**
 * The sync token is opaque to clients. Servers (the edge API and the notifier) encode a position in a
 * user's change journal: the per-user sequence number of the last change seen. It is versioned so the
 * format can change without breaking stored tokens.
 *
 * Only servers call these; a client stores the token and sends it back unchanged.
 */
const PREFIX = "c1.";

export function encodeSyncToken(sequence: bigint | number): string {
  const value = BigInt(sequence);
  if (value < 0n) throw new RangeError("a journal sequence is never negative");
  return `${PREFIX}${value.toString(36)}`;
}

/** The journal sequence a token stands for, or null when the token is not one of ours. */
export function decodeSyncToken(token: string): bigint | null {
  if (!token.startsWith(PREFIX)) return null;
  const digits = token.slice(PREFIX.length);
  if (!/^[0-9a-z]{1,13}$/.test(digits)) return null;
  let value = 0n;
  for (const digit of digits) value = value * 36n + BigInt(Number.parseInt(digit, 36));
  return value <= 9_223_372_036_854_775_807n ? value : null;
}
