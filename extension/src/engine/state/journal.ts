import { crc32 } from "node:zlib";

/**
 * One line per durable batch: `<crc32 hex> <json>`. A crash can leave a torn last line; its checksum
 * fails and replay stops there, so a batch is applied whole or not at all.
 */
export function encodeRecord(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
}

/** The records of a journal up to the first damaged one, and how many bytes of it are good. */
export function decodeRecords(text: string): { records: unknown[]; goodBytes: number } {
  const records: unknown[] = [];
  let offset = 0;
  while (offset < text.length) {
    const end = text.indexOf("\n", offset);
    if (end < 0) break;
    const line = text.slice(offset, end);
    const space = line.indexOf(" ");
    const json = line.slice(space + 1);
    if (space !== 8 || crc32(json).toString(16).padStart(8, "0") !== line.slice(0, 8)) break;
    try {
      records.push(JSON.parse(json));
    } catch {
      break;
    }
    offset = end + 1;
  }
  return { records, goodBytes: Buffer.byteLength(text.slice(0, offset)) };
}
