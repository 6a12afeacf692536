/**
 * The forms a secret can take in a log line: as is, URL-encoded, JSON-escaped, and base64/base64url
 * (alone, or inside a longer encoded text at any byte alignment, as in `Basic base64(user:secret)`).
 * Built with Node's Buffer, independently of the redaction under test.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  for (const shift of [0, 1, 2]) {
    const bytes = Buffer.concat([Buffer.alloc(shift, 0x20), Buffer.from(secret)]);
    const from = Math.ceil((shift * 8) / 6);
    const to = Math.floor(((shift + Buffer.byteLength(secret)) * 8) / 6);
    forms.add(bytes.toString("base64").slice(from, to));
    forms.add(bytes.toString("base64url").slice(from, to));
  }
  return [...forms];
}

/** Which of `secrets` (named) appear in any form in `lines`: `[]` when none does. */
export function leakedSecrets(lines: readonly string[], secrets: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    for (const form of secretForms(secret)) {
      const line = lines.find((text) => text.includes(form));
      if (line !== undefined) leaks.push(`${name} (as ${form === secret ? "is" : form}) in: ${line}`);
    }
  }
  return leaks;
}
