import { randomBytes } from "node:crypto";

/**
 * An S3 error: the code and status a real S3 would answer with, so SDK clients branch on it exactly as
 * they would against AWS (`BadDigest`, `SignatureDoesNotMatch`, `NoSuchKey`...).
 */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "S3Error";
  }
}

export const accessDenied = (message: string) => new S3Error("AccessDenied", 403, message);
export const signatureMismatch = (message: string) => new S3Error("SignatureDoesNotMatch", 403, message);
export const badRequest = (code: string, message: string) => new S3Error(code, 400, message);
export const notImplemented = (what: string) =>
  new S3Error("NotImplemented", 501, `${what} is not implemented by the embedded store`);

export function newRequestId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

/** Escapes text for XML content; control characters as numeric references, like S3 does. */
export function xmlEscape(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped here
  return text.replace(/[&<>"'\u0000-\u001f]/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      case "'":
        return "&apos;";
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

export function errorXml(error: S3Error, resource: string, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message>` +
    `<Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`
  );
}
