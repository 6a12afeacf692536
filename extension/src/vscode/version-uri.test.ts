import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseVersionUri, VERSION_SCHEME, versionDiffTitle, versionUriParts } from "./version-uri.ts";

describe("version URIs", () => {
  it("keep the file's path, so the editor shows its name and language", () => {
    const parts = versionUriParts({ fileId: "f-1", version: 3, path: "docs/notes.md" });
    expect(parts).toEqual({ scheme: VERSION_SCHEME, path: "/docs/notes.md", query: "fileId=f-1&version=3" });
  });

  it("round-trip any file id, version and path", () => {
    const segment = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes("/"));
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 2_147_483_647 }),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        (fileId, version, segments) => {
          const ref = { fileId, version, path: segments.join("/") };
          expect(parseVersionUri(versionUriParts(ref))).toEqual(ref);
        },
      ),
    );
  });

  it("refuse other schemes and malformed queries", () => {
    expect(parseVersionUri({ scheme: "file", path: "/a", query: "fileId=x&version=1" })).toBeUndefined();
    expect(parseVersionUri({ scheme: VERSION_SCHEME, path: "/a", query: "version=1" })).toBeUndefined();
    expect(
      parseVersionUri({ scheme: VERSION_SCHEME, path: "/a", query: "fileId=x&version=0" }),
    ).toBeUndefined();
    expect(
      parseVersionUri({ scheme: VERSION_SCHEME, path: "/a", query: "fileId=x&version=1.5" }),
    ).toBeUndefined();
    expect(parseVersionUri({ scheme: VERSION_SCHEME, path: "/a", query: "fileId=x" })).toBeUndefined();
  });

  it("title the diff with the name and the version", () => {
    expect(versionDiffTitle({ fileId: "f", version: 7, path: "src/a.ts" })).toBe(
      "a.ts (version 7) ↔ current",
    );
  });
});
