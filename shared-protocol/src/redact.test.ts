import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REDACTED, redact, redactText } from "./redact.ts";

const hex = (n: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: n, maxLength: n });
const uuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join("-"));
const secret = fc.string({
  unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
  minLength: 43,
  maxLength: 43,
});
const deviceToken = fc.tuple(uuid, uuid, secret).map(([owner, device, s]) => ({
  token: `wsd1.${owner}.${device}.${s}`,
  secret: s,
}));
const text = fc.string({ maxLength: 30 });

/** The secret's bytes as base64 inside a longer encoded text, at the alignment `shift`. */
const base64Core = (value: string, shift: number, url: boolean) =>
  Buffer.concat([Buffer.alloc(shift, 0x41), Buffer.from(value)])
    .toString(url ? "base64url" : "base64")
    .slice(Math.ceil((shift * 8) / 6), Math.floor(((shift + value.length) * 8) / 6));

describe("redactText", () => {
  it("removes a device token in any text: as is, URL-encoded, in a header, a query string or base64", () => {
    fc.assert(
      fc.property(deviceToken, text, text, fc.integer({ min: 0, max: 2 }), (t, before, after, shift) => {
        const forms = [
          `${before}${t.token}${after}`,
          `${before}Authorization: Bearer ${t.token}${after}`,
          `${before}/ws?token=${encodeURIComponent(t.token)}&x=${after}`,
          JSON.stringify({ message: `${before}${t.token}${after}` }),
          `${before}${Buffer.from(`${"u".repeat(shift)}${t.token}`).toString("base64")}${after}`,
          `${before}${Buffer.from(`${"u".repeat(shift)}${t.token}`).toString("base64url")}`,
        ];
        for (const form of forms) {
          const out = redactText(form);
          expect(out).not.toContain(t.secret);
          for (const s of [0, 1, 2])
            for (const url of [false, true]) expect(out).not.toContain(base64Core(t.secret, s, url));
        }
      }),
    );
  });

  it("removes a known secret (a password) in every encoding, wherever it sits", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), text, text, (password, before, after) => {
        fc.pre(!REDACTED.includes(password));
        const forms = [
          `${before}${password}${after}`,
          `${before}${encodeURIComponent(password)}${after}`,
          JSON.stringify({ note: `${before}${password}${after}` }),
          `Basic ${Buffer.from(`${before}:${password}`).toString("base64")}`,
          `${before}${Buffer.from(`${before}${password}`).toString("base64url")}`,
        ];
        for (const form of forms) {
          const out = redactText(form, [password]);
          expect(out).not.toContain(password);
        }
      }),
    );
  });

  it("leaves ordinary text alone", () => {
    expect(redactText("GET /api/v1/files/changes?since=c1.5: fetch failed")).toBe(
      "GET /api/v1/files/changes?since=c1.5: fetch failed",
    );
  });
});

describe("redact", () => {
  it("scrubs nested fields, errors and fields named after secrets", () => {
    const token = "wsd1.a.b.c-secret-part";
    const value = {
      path: "/poll",
      error: new Error(`boom with ${token}`),
      nested: [{ headers: { authorization: "Bearer x", accept: "json" } }],
      password: "hunter2hunter2",
    };
    expect(redact(value)).toEqual({
      path: "/poll",
      error: { name: "Error", message: `boom with wsd1.${REDACTED}` },
      nested: [{ headers: { authorization: REDACTED, accept: "json" } }],
      password: REDACTED,
    });
  });
});
