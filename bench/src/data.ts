import { createCipheriv, createHash } from "node:crypto";
import { open } from "node:fs/promises";

const BLOCK = 16 * 1024 * 1024;

/**
 * Incompressible, non-repeating bytes from a seed: the AES-128-CTR keystream (several GB/s here, far
 * faster than the kernel's random source). Repeated blocks would let CDC deduplicate and flatter it.
 */
export class SeededBytes {
  private readonly cipher;
  constructor(seed: string) {
    const key = createHash("sha256").update(seed).digest();
    this.cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), key.subarray(16, 32));
  }

  next(size: number): Buffer {
    return this.cipher.update(Buffer.alloc(size));
  }
}

export function seededBytes(seed: string, size: number): Buffer {
  return new SeededBytes(seed).next(size);
}

/** Writes `size` seeded bytes to `path` block by block (memory stays one block). */
export async function writeSeededFile(path: string, size: number, seed: string): Promise<void> {
  const source = new SeededBytes(seed);
  const handle = await open(path, "w");
  try {
    for (let written = 0; written < size; ) {
      const block = source.next(Math.min(BLOCK, size - written));
      await handle.write(block, 0, block.length, written);
      written += block.length;
    }
  } finally {
    await handle.close();
  }
}
