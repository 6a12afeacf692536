import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkStatement, statementsIn } from "../testing/owner-keys.ts";

const srcDir = fileURLToPath(new URL("..", import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? sources(join(dir, entry.name)) : [join(dir, entry.name)])),
  );
  return nested
    .flat()
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.includes("/testing/"));
}

describe("the owner-key checker", () => {
  it("flags statements on user-scoped tables that do not name the owner, and passes those that do", () => {
    expect(checkStatement("SELECT name FROM files WHERE id = $1").problems).not.toEqual([]);
    expect(checkStatement("UPDATE devices SET name = $1 WHERE id = $2").problems).not.toEqual([]);
    expect(
      checkStatement("SELECT * FROM files f JOIN file_versions v ON v.file_id = f.id WHERE f.owner_id = $1")
        .problems,
    ).toEqual(["file_versions v is not keyed by owner_id"]);
    expect(
      checkStatement("SELECT * FROM files a JOIN files b ON a.owner_id = b.owner_id").problems,
    ).toContain("no owner is bound to a parameter");
    expect(checkStatement("INSERT INTO files (id, name) VALUES ($1, $2)").problems).toEqual([
      "INSERT INTO files does not list owner_id",
    ]);
    expect(checkStatement("SELECT 1 FROM files WHERE owner_id = $1 AND id = $2").problems).toEqual([]);
    expect(checkStatement("SELECT 1 FROM users WHERE id = $1 FOR UPDATE").problems).toEqual([]);
    expect(
      checkStatement(
        "SELECT c.seq FROM changes c JOIN file_versions v ON v.owner_id = c.owner_id AND v.file_id = c.file_id WHERE c.owner_id = $1",
      ).problems,
    ).toEqual([]);
    expect(checkStatement("SELECT hash FROM chunks WHERE hash = ANY($1)").problems).toEqual([]);
    expect(
      checkStatement("/* cross-owner: housekeeping */ DELETE FROM chunk_uploads WHERE issued_at < $1"),
    ).toMatchObject({
      crossOwner: "housekeeping",
    });
  });
});

describe("sharding by owner", () => {
  it("every query of the edge API on a user-scoped table is keyed by its owner, or says why it is not", async () => {
    const violations: string[] = [];
    const crossOwner: string[] = [];
    const crossOwnerWrites: string[] = [];
    let checked = 0;
    for (const file of await sources(srcDir)) {
      for (const statement of statementsIn(await readFile(file, "utf8"))) {
        const check = checkStatement(statement);
        checked++;
        if (check.crossOwner && !/^select\b/.test(check.sql)) crossOwnerWrites.push(check.sql);
        if (check.crossOwner) crossOwner.push(`${relative(srcDir, file)}: ${check.crossOwner}`);
        else if (check.problems.length > 0)
          violations.push(`${relative(srcDir, file)}: ${check.problems.join("; ")}\n  ${check.sql}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(violations).toEqual([]);
    // Ranging over all users is for finding work (fan-out reads); every write names its owner.
    expect(crossOwnerWrites).toEqual([]);
    // Each of these ranges over all users on purpose; docs/scaling.md says what each becomes under
    // Citus. A new one must be added here, and there, deliberately.
    expect(crossOwner.sort()).toEqual([
      "db/chunks.ts: garbage collection asks whether anybody still holds these objects (fan-out read)",
      "db/chunks.ts: garbage collection finds the owners whose unreferenced ownership expired (fan-out read)",
      "db/idempotency-keys.ts: housekeeping finds the owners with expired idempotency keys (fan-out read)",
      "db/retention.ts: housekeeping finds the owners with stale upload tags (fan-out read)",
      "db/retention.ts: retention finds the owners with expired versions (fan-out read)",
    ]);
  });
});
