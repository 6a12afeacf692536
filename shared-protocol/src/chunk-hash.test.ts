import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkHash, checksumSha256Base64, chunkHashFromDigest, digestFromChunkHash } from "./chunk-hash.ts";

describe("chunk hashes", () => {
  it("formats a digest as sha256: and lowercase hex, and parses it back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 256 }), (bytes) => {
        const digest = createHash("sha256").update(bytes).digest();
        const hash = chunkHashFromDigest(digest);
        expect(hash).toBe(`sha256:${digest.toString("hex")}`);
        expect(ChunkHash.safeParse(hash).success).toBe(true);
        expect(Buffer.from(digestFromChunkHash(hash)).equals(digest)).toBe(true);
        expect(checksumSha256Base64(hash)).toBe(digest.toString("base64"));
      }),
    );
  });

  it.each([
    "sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000",
    "sha256:abc",
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    `sha256:${"0".repeat(65)}`,
    `SHA256:${"0".repeat(64)}`,
  ])("refuses %j", (value) => {
    expect(ChunkHash.safeParse(value).success).toBe(false);
  });
});
