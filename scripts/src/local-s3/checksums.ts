import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

/** The S3 flexible checksums the store verifies and keeps (CRC64NVME is not among them). */
export const CHECKSUM_ALGORITHMS = ["crc32", "crc32c", "sha1", "sha256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface RunningChecksum {
  update(chunk: Uint8Array): void;
  /** The digest, big-endian; S3 writes it base64-encoded in `x-amz-checksum-*`. */
  digest(): Buffer;
}

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

export function startChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  switch (algorithm) {
    case "sha1":
    case "sha256": {
      const hash = createHash(algorithm);
      return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
    }
    case "crc32": {
      let value = 0;
      return { update: (chunk) => (value = crc32(chunk, value)), digest: () => uint32Bytes(value) };
    }
    case "crc32c": {
      let value = 0;
      return { update: (chunk) => (value = crc32c(chunk, value)), digest: () => uint32Bytes(value) };
    }
  }
}

function uint32Bytes(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78); Node's zlib only has the IEEE CRC-32.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}
