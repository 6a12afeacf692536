/**
 * Scrubs secrets from what goes to a log: device tokens (`wsd1.…`, also URL- and base64-encoded),
 * `Authorization` values, `token`/`password` query parameters and JSON fields, object keys that name a
 * secret, and any `known` secret (e.g. this device's token or a password) in every encoding above.
 * Loggers call it on every line, so no call site has to remember.
 */
export const REDACTED = "[redacted]";

const TOKEN_PREFIX = "wsd1.";
const SECRET_KEY = /^(authorization|password|token|secret|access_?token|refresh_?token|x-amz-signature)$/i;

/** Where `wsd1.` starts inside base64 text, for each of the three byte alignments. */
/** Where `wsd1.` starts inside base64 text, for each of the three byte alignments. */
const BASE64_MARKERS = [0, 1, 2].flatMap((shift) => {
  const marker = base64Core(TOKEN_PREFIX, shift);
  return [marker, marker.replaceAll("+", "-").replaceAll("/", "_")];
});

const PATTERNS: Array<[RegExp, string]> = [
  [/wsd1(?:\.|%2e)[A-Za-z0-9_.%-]*/gi, `wsd1.${REDACTED}`],
  [/\b(Bearer|Basic)(\s+|%20|\+)[^\s"',;]+/gi, `$1 ${REDACTED}`],
  [/([?&;](?:token|access_token|password|X-Amz-Signature)=)[^&\s#"']*/gi, `$1${REDACTED}`],
  [/("(?:password|token|authorization|secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${REDACTED}"`],
  ...BASE64_MARKERS.map((marker): [RegExp, string] => [
    new RegExp(`[A-Za-z0-9+/_-]*${escapeRegExp(marker)}[A-Za-z0-9+/_=-]*`, "g"),
    REDACTED,
  ]),
];

export function redactText(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) {
    if (secret.length < 6) continue; // too short to tell from ordinary text
    for (const form of encodings(secret)) out = out.split(form).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A copy of `value` with every string scrubbed; errors become `{ name, message, code? }`. */
export function redact(value: unknown, known: readonly string[] = [], depth = 0): unknown {
  if (typeof value === "string") return redactText(value, known);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return REDACTED;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: redactText(value.message, known),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, known, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_KEY.test(key) && item !== null && item !== undefined ? REDACTED : redact(item, known, depth + 1),
    ]),
  );
}

function encodings(secret: string): string[] {
  const forms = [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replaceAll("%20", "+"),
    JSON.stringify(secret).slice(1, -1),
    // Base64 of any text holding the secret (Basic auth, a blob): the part its bytes alone determine.
    ...[0, 1, 2].map((shift) => base64Core(secret, shift)),
  ];
  const withUrlSafe = forms.flatMap((form) => [form, form.replaceAll("+", "-").replaceAll("/", "_")]);
  return [...new Set(withUrlSafe)].filter((form) => form.length >= 6).sort((x, y) => y.length - x.length);
}

/** The base64 characters that encode only `text`'s bytes when `shift` bytes come before it. */
function base64Core(text: string, shift: number): string {
  const body = new TextEncoder().encode(text);
  const encoded = toBase64(new Uint8Array([...new Uint8Array(shift), ...body]));
  return encoded.slice(Math.ceil((shift * 8) / 6), Math.floor(((shift + body.length) * 8) / 6));
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
