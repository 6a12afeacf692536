import { cutBlock } from "./fastcdc-wasm.ts";
import { WINDOW_START } from "./gear-scan-wasm.ts";

/**
 * The hashing worker's program: plain JavaScript evaluated in the worker, so it runs the same under
 * tsx, vitest and a bundle. Two kinds of work:
 * - a block of a stream (`WorkerHasher.begin`): the main thread found its cuts; the worker hashes it,
 *   from a slot of the shared ring (no copy) or from a transferred buffer;
 * - a part of an open file (`WorkerHasher.chunkInParts`): the worker reads the bytes itself through
 *   the file descriptor, into its own WebAssembly memory, cuts them with FastCDC (`cutBlock`, by its
 *   source text) and hashes them, so each block is read, scanned and hashed on one core while it is
 *   still in that core's cache, and no thread waits on another between blocks.
 */
export const HASH_WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { readSync } = require("node:fs");
const cutBlock = ${cutBlock.toString()};
const WINDOW_START = ${WINDOW_START};
const jobs = new Map();
let ring;
let partScan;

// Made for the first part and kept: a module arrives with every part (as a new object each time),
// but every part of this worker's hasher has the same module and block size.
function partScanner(message) {
  if (partScan && partScan.window.length === message.blockBytes) return partScan;
  const memory = new WebAssembly.Memory({ initial: message.pages, maximum: message.pages });
  new Uint32Array(memory.buffer, 0, 256).set(message.gear);
  const wasm = new WebAssembly.Instance(message.module, { env: { memory } }).exports;
  // The window is where blocks are read to: the gear loop scans them there, in place.
  const scanner = {
    hash: 0,
    scan(block, from, to, hash, mask) {
      wasm.hash.value = hash;
      const found = wasm.scan(WINDOW_START + from, WINDOW_START + to, mask);
      this.hash = wasm.hash.value;
      return found === 0 ? -1 : found - WINDOW_START;
    },
  };
  partScan = { window: new Uint8Array(memory.buffer, WINDOW_START, message.blockBytes), scanner };
  return partScan;
}

function chunkPart(message) {
  const { window, scanner } = partScanner(message);
  const state = { position: 0, hash: 0 };
  const ends = [];
  const digests = [];
  let hash = createHash("sha256");
  let at = message.start;
  while (at < message.size) {
    const read = readSync(message.fd, window, 0, Math.min(window.length, message.size - at), at);
    // The file ended before the size it had when opened: it changed while being read.
    if (read === 0) return { short: true };
    const block = window.subarray(0, read);
    const cuts = [];
    cutBlock(state, message.parameters, scanner, block, cuts);
    let from = 0;
    for (const cut of cuts) {
      hash.update(block.subarray(from, cut));
      digests.push(hash.digest());
      hash = createHash("sha256");
      ends.push(at + cut);
      if (at + cut >= message.stopAfter) return { ends, digests };
      from = cut;
    }
    hash.update(block.subarray(from));
    at += read;
  }
  if ((ends[ends.length - 1] ?? message.start) < message.size) {
    ends.push(message.size);
    digests.push(hash.digest());
  }
  return { ends, digests };
}

parentPort.on("message", (message) => {
  if (message.type === "ring") { ring = new Uint8Array(message.ring); return; }
  if (message.type === "end") { jobs.delete(message.job); return; }
  if (message.type === "part") {
    let result;
    try {
      result = chunkPart(message);
    } catch (error) {
      result = { error: String(error && error.message || error) };
    }
    parentPort.postMessage({ type: "part", job: message.job, ...result });
    return;
  }
  let hash = jobs.get(message.job) || createHash("sha256");
  const block = message.buffer
    ? new Uint8Array(message.buffer, 0, message.length)
    : ring.subarray(message.byteOffset, message.byteOffset + message.length);
  const digests = [];
  let start = 0;
  for (const cut of message.cuts) {
    hash.update(block.subarray(start, cut));
    digests.push(hash.digest());
    hash = createHash("sha256");
    start = cut;
  }
  if (start < block.length) hash.update(block.subarray(start));
  jobs.set(message.job, hash);
  parentPort.postMessage({ job: message.job, seq: message.seq, digests, slot: message.slot });
});
`;
