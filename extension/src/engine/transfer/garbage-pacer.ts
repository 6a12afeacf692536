import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * Why the engine asks for garbage collections itself (issue 5: a 5 GB file syncs under about 100 MB):
 * every piece of an answer read from a socket is a fresh buffer. They are garbage at once, small on
 * V8's heap but with their bytes outside it, and V8 only collects for outside memory after a large
 * growth: a download's resident memory carried tens of MiB of dead pieces. A young-generation
 * collection every PACE_BYTES moved bounds that (about 1 ms each: 2-7% of a download's CPU, measured in
 * the big-file test), and a full one after a big download gives back what it left before the scan
 * that follows starts the hashing worker. Turning pacing on also sets V8's --optimize-for-size,
 * which makes the heap grow more slowly and collect sooner: without it resident memory crept by 2-3 MiB
 * per GiB synced (big-file test at 5 GiB, peak RSS upload / download 107 / 106 MiB; with it set at
 * runtime, 94 / 85; at 2 GiB 93 / 97 -> 88 / 84), at no CPU cost seen at 2 GiB (5 GiB download: 50 s
 * against 39 s, on a loaded machine). The side effects: flags for the whole process, and --expose-gc
 * puts a `gc` global in vm contexts and workers made later. Hence pacing is off until the process's
 * owner turns it on (enableGarbagePacing: the CLI, which owns its process); the extension host is
 * shared with other extensions, whose V8 flags are not the engine's to change.
 */
export const PACE_BYTES = 4 * 1024 * 1024;
/** A download at least this big is followed by a full collection (tens of ms: rare, and worth it). */
const SETTLE_BYTES = 32 * 1024 * 1024;

type Gc = (options: { type: "minor" | "major"; execution: "sync" }) => void;

/**
 * V8's gc(), got at runtime without a node flag (the extension host's flags are not ours to set):
 * --expose-gc set now puts `gc` in contexts made after it, so a fresh vm context hands it over. Null
 * when that is refused; the engine then leaves collection to V8, as before.
 */
function obtainGc(): Gc | null {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as Gc) : null;
  } catch {
    return null;
  }
}

let enabled = false;
let gc: Gc | null | undefined;

/** Pacing on for this process: call it only from code that owns the process (a CLI, a test child). */
export function enableGarbagePacing(): void {
  enabled = true;
  setFlagsFromString("--optimize-for-size");
}
let sinceCollection = 0;
let collections = 0;
let collectionMs = 0;

function collect(type: "minor" | "major"): void {
  if (!enabled) return;
  gc ??= obtainGc();
  if (!gc) return;
  const started = performance.now();
  gc({ type, execution: "sync" });
  collectionMs += performance.now() - started;
  collections++;
}

/** Counts bytes moved by chunk transfers; every PACE_BYTES, collects the young generation. */
export function noteTransferred(bytes: number): void {
  sinceCollection += bytes;
  if (sinceCollection < PACE_BYTES) return;
  sinceCollection = 0;
  collect("minor");
}

/** After a big transfer: a full collection gives back what it left, before the next work starts. */
export function settleAfter(bytes: number): void {
  if (bytes >= SETTLE_BYTES) collect("major");
}

/** How many collections the pacer asked for and the time they took: what pacing costs. */
export function pacerCost(): { collections: number; milliseconds: number } {
  return { collections, milliseconds: collectionMs };
}
