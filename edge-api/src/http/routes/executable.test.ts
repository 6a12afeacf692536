import { type ApiClient, type Change, routes } from "@wsync/shared-protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeChunk, uploadChunk } from "../../testing/chunks.ts";
import { failure } from "../../testing/failure.ts";
import { createHarness, type Harness } from "../../testing/harness.ts";
import { checkInvariants } from "../../testing/invariants.ts";

/** Extension: the executable bit, stored per version with the chunk list (shared-protocol `Executable`). */

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ storage: "s3" });
});
afterAll(() => h?.close());

async function uploaded(client: ApiClient, text: string) {
  const chunk = await makeChunk(text);
  await uploadChunk(client, chunk);
  return [chunk.hash];
}

async function allChanges(client: ApiClient): Promise<Change[]> {
  const changes: Change[] = [];
  let since: string | undefined;
  for (;;) {
    const page = await client.changes(since ? { since } : {});
    changes.push(...page.changes);
    since = page.syncToken;
    if (!page.hasMore) return changes;
  }
}

describe("the executable bit", () => {
  it("is false when a create leaves it out, and stored when a create sends it", async () => {
    const { client } = await h.signUp();
    const chunks = await uploaded(client, "#!/bin/sh\necho hi\n");
    const plain = await client.createFile({ parentId: null, name: "plain", isFolder: false, chunks });
    const script = await client.createFile({
      parentId: null,
      name: "run.sh",
      isFolder: false,
      chunks,
      executable: true,
    });
    expect(await client.getFile(plain.fileId)).toMatchObject({ executable: false, chunks });
    expect(await client.getFile(script.fileId)).toMatchObject({ executable: true, chunks });
    const changes = await allChanges(client);
    expect(changes.map((c) => [c.name, c.executable])).toEqual([
      ["plain", false],
      ["run.sh", true],
    ]);
    expect((await client.listVersions(script.fileId)).versions[0]?.executable).toBe(true);
  });

  it("a commit that changes only the bit is a new version with the same chunks, in history and feed", async () => {
    const { client } = await h.signUp();
    const chunks = await uploaded(client, "binary bytes");
    const created = await client.createFile({ parentId: null, name: "tool", isFolder: false, chunks });
    await client.commit(created.fileId, { version: 2, chunks, executable: true });
    await client.commit(created.fileId, { version: 3, chunks });
    expect(await client.getFile(created.fileId)).toMatchObject({ version: 3, executable: false, chunks });
    const { versions } = await client.listVersions(created.fileId);
    expect(versions.map((v) => [v.version, v.action, v.executable, v.chunks])).toEqual([
      [3, "modified", false, chunks],
      [2, "modified", true, chunks],
      [1, "created", false, chunks],
    ]);
    const changes = await allChanges(client);
    expect(changes.map((c) => [c.version, c.executable])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect((await client.me()).storageUsed).toBe("binary bytes".length);
    expect(await checkInvariants(h.sql)).toEqual([]);
  });

  it("a move and a delete keep the bit of the content, and a restore brings back that of its version", async () => {
    const { client } = await h.signUp();
    const chunks = await uploaded(client, "echo moved");
    const created = await client.createFile({
      parentId: null,
      name: "a.sh",
      isFolder: false,
      chunks,
      executable: true,
    });
    await client.moveFile(created.fileId, { version: 2, name: "b.sh" });
    expect(await client.getFile(created.fileId)).toMatchObject({ name: "b.sh", executable: true });
    await client.commit(created.fileId, { version: 3, chunks, executable: false });
    await client.deleteFile(created.fileId, 4);
    await client.restore(created.fileId, { version: 5, fromVersion: 2 });
    expect(await client.getFile(created.fileId)).toMatchObject({
      version: 5,
      deleted: false,
      executable: true,
    });
    const changes = await allChanges(client);
    // A deleted version carries no chunks, so no bit either.
    expect(changes.map((c) => [c.version, c.action, c.executable])).toEqual([
      [1, "created", true],
      [2, "moved", true],
      [3, "modified", false],
      [4, "deleted", undefined],
      [5, "created", true],
    ]);
  });

  it("the batch create stores each item's bit", async () => {
    const { client } = await h.signUp();
    const chunks = await uploaded(client, "batch");
    const { results } = await client.createFiles({
      creates: [
        { parentId: null, name: "x", isFolder: false, chunks, executable: true },
        { parentId: null, name: "y", isFolder: false, chunks },
        { parentId: null, name: "z", isFolder: false, chunks, executable: false },
        { parentId: null, name: "dir", isFolder: true },
      ],
    });
    const ids = results.map((r) => ("fileId" in r ? r.fileId : ""));
    const files = await Promise.all(ids.map((id) => client.getFile(id)));
    expect(files.map((f) => [f.name, f.isFolder, f.executable])).toEqual([
      ["x", false, true],
      ["y", false, false],
      ["z", false, false],
      ["dir", true, false],
    ]);
  });

  it("a folder cannot be executable, and a bit that is not a boolean is validation_failed", async () => {
    const { client } = await h.signUp();
    const folder = await failure(
      client.createFile({ parentId: null, name: "dir", isFolder: true, executable: true }),
    );
    expect(folder.code).toBe("validation_failed");
    const created = await client.createFile({ parentId: null, name: "f", isFolder: false, chunks: [] });
    const bad = await failure(
      client.commit(created.fileId, { version: 2, chunks: [], executable: "yes" as unknown as boolean }),
    );
    expect(bad.code).toBe("validation_failed");
    expect(await client.getFile(created.fileId)).toMatchObject({ version: 1, executable: false });
  });

  it("property: after any run of commits, each version holds the bit its commit sent (absent: false)", async () => {
    const { client } = await h.signUp();
    const chunks = await uploaded(client, "property");
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(true, false, undefined), { minLength: 1, maxLength: 4 }),
        async (bits) => {
          const [first, ...rest] = bits;
          const created = await client.createFile({
            parentId: null,
            name: crypto.randomUUID(),
            isFolder: false,
            chunks,
            ...(first === undefined ? {} : { executable: first }),
          });
          for (const [i, bit] of rest.entries()) {
            await client.commit(created.fileId, {
              version: i + 2,
              chunks,
              ...(bit === undefined ? {} : { executable: bit }),
            });
          }
          const { versions } = await client.listVersions(created.fileId);
          expect(versions.map((v) => v.executable).reverse()).toEqual(bits.map((bit) => bit ?? false));
          expect((await client.getFile(created.fileId)).executable).toBe(bits.at(-1) ?? false);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("the OpenAPI document describes the field as an extension wherever it goes", async () => {
    const response = await h.app.request(routes.openapi);
    const document = (await response.json()) as { components: { schemas: Record<string, unknown> } };
    for (const schema of [
      "CreateFileRequest",
      "CommitRequest",
      "FileMetadata",
      "VersionList",
      "ChangesPage",
    ]) {
      const text = JSON.stringify(document.components.schemas[schema]);
      expect(text, schema).toContain('"executable":{"description":"Extension: the file is executable');
    }
  });
});
