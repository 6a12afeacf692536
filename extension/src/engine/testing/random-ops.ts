import { mkdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import fc from "fast-check";
import type { Device } from "./devices.ts";

/** Random operations for the randomized convergence suite, and the bookkeeping of unsynced bytes. */
export const paths = ["a.txt", "b.txt", "d/c.txt", "d/e.txt", "f/g.txt"];
export const folders = ["d", "f"];

export type Op =
  | { kind: "write"; device: number; path: string }
  | { kind: "delete"; device: number; path: string }
  | { kind: "rename"; device: number; from: string; to: string }
  | { kind: "sync"; device: number }
  | { kind: "network"; device: number; online: boolean };

const device = fc.integer({ min: 0, max: 2 });
export const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant("write" as const), device, path: fc.constantFrom(...paths) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      device,
      path: fc.constantFrom(...paths, ...folders),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("rename" as const),
      device,
      from: fc.constantFrom(...paths, ...folders),
      to: fc.constantFrom("a2.txt", "d/c2.txt", "h", "f/x.txt"),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant("sync" as const), device }), weight: 3 },
  {
    arbitrary: fc.record({ kind: fc.constant("network" as const), device, online: fc.boolean() }),
    weight: 1,
  },
);

/** The bytes a device holds that it has not yet synced: these must survive, somewhere. */
export class Pending {
  private readonly byDevice = [
    new Map<string, string>(),
    new Map<string, string>(),
    new Map<string, string>(),
  ];
  write(device: number, path: string, content: string) {
    this.byDevice[device]?.set(path, content);
  }
  delete(device: number, path: string) {
    for (const key of [...(this.byDevice[device]?.keys() ?? [])]) {
      if (key === path || key.startsWith(`${path}/`)) this.byDevice[device]?.delete(key);
    }
  }
  rename(device: number, from: string, to: string) {
    const map = this.byDevice[device] as Map<string, string>;
    for (const [key, content] of [...map]) {
      if (key === from || key.startsWith(`${from}/`)) {
        map.delete(key);
        map.set(to + key.slice(from.length), content);
      }
    }
  }
  synced(device: number) {
    this.byDevice[device]?.clear();
  }
  all(): string[] {
    return this.byDevice.flatMap((map) => [...map.values()]);
  }
}

export async function apply(devices: Device[], pending: Pending, o: Op, n: number): Promise<void> {
  const d = devices[o.device] as Device;
  const exists = async (path: string) => (await d.tree())[path] !== undefined;
  switch (o.kind) {
    case "write": {
      const content = `write ${n} by ${d.name}`;
      const tree = await d.tree();
      // A file cannot be written under a path that is a file here.
      if (tree[dirname(o.path)] !== undefined && tree[dirname(o.path)] !== null && dirname(o.path) !== ".")
        return;
      if (tree[o.path] === null) return;
      await d.write(o.path, content);
      pending.write(o.device, o.path, content);
      return;
    }
    case "delete":
      await d.remove(o.path);
      pending.delete(o.device, o.path);
      return;
    case "rename": {
      if (!(await exists(o.from)) || (await exists(o.to)) || o.to.startsWith(`${o.from}/`)) return;
      const parent = dirname(o.to);
      if (parent !== "." && (await d.tree())[parent] !== undefined && (await d.tree())[parent] !== null)
        return;
      await mkdir(dirname(join(d.folder, o.to)), { recursive: true });
      await rename(join(d.folder, o.from), join(d.folder, o.to));
      pending.rename(o.device, o.from, o.to);
      return;
    }
    case "sync":
      await d.engine.syncNow();
      if (d.engine.status().lastError === null && d.engine.status().deferred.length === 0)
        pending.synced(o.device);
      return;
    case "network":
      d.setOnline(o.online);
      return;
  }
}
