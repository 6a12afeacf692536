import { describe, expect, it } from "vitest";
import { hashPassword, PASSWORD_HASH_ITERATIONS, verifyNoPassword, verifyPassword } from "./password.ts";

describe("password hashes", () => {
  it("are PBKDF2-SHA256 with at least 600,000 iterations, salted, and verify only the right password", async () => {
    expect(PASSWORD_HASH_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    const [a, b] = await Promise.all([hashPassword("correct horse"), hashPassword("correct horse")]);
    expect(a).toMatch(/^pbkdf2-sha256\$600000\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct hors", a)).toBe(false);
    expect(await verifyPassword("correct horse", "garbage")).toBe(false);
    expect(await verifyNoPassword("anything")).toBe(false);
  });

  it("are computed off the event loop: other callbacks keep running while one is derived", async () => {
    let ticks = 0;
    let hashing = true;
    const tick = () => {
      ticks++;
      if (hashing) setImmediate(tick);
    };
    setImmediate(tick);
    await hashPassword("keeps the loop free");
    hashing = false;
    // A derivation on the main thread would let no callback run until it returned.
    expect(ticks).toBeGreaterThan(1);
  });
});
