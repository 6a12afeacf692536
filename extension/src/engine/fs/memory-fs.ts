import {
  type EntryKind,
  type FileStat,
  type FileSystem,
  parentPath,
  type ReadHandle,
  type WriteHandle,
} from "./types.ts";

interface MemoryNode {
  kind: EntryKind;
  data: Uint8Array;
  mtimeMs: number;
  ctimeMs: number;
  inode: number;
  mode: number;
}

function fsError(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

/**
 * A file system in memory, for tests of the scanner, matcher and executor without a disk. Every write
 * advances a logical clock, so each change is visible in mtime the way a real disk shows it.
 */
export class MemoryFileSystem implements FileSystem {
  private readonly nodes = new Map<string, MemoryNode>();
  private nextInode = 2;
  private clock = 1_000_000;
  private readonly listeners = new Set<(path: string | null) => void>();

  constructor() {
    this.nodes.set("", this.newNode("folder", new Uint8Array(0), 0o755));
  }

  private newNode(kind: EntryKind, data: Uint8Array, mode: number): MemoryNode {
    const now = ++this.clock;
    return { kind, data, mtimeMs: now, ctimeMs: now, inode: this.nextInode++, mode };
  }

  private emit(path: string): void {
    for (const listener of this.listeners) listener(path);
  }

  private requireFolder(path: string): void {
    if (this.nodes.get(path)?.kind !== "folder") throw fsError("ENOENT", `no folder ${path}`);
  }

  // Test helpers: direct writes, as a user or another program would make them.
  writeFile(path: string, content: Uint8Array | string, mode = 0o644): void {
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    this.requireFolder(parentPath(path));
    const existing = this.nodes.get(path);
    if (existing && existing.kind === "file") {
      existing.data = data;
      existing.mtimeMs = existing.ctimeMs = ++this.clock;
    } else {
      this.nodes.set(path, this.newNode("file", data, mode));
    }
    this.emit(path);
  }

  mkdirp(path: string): void {
    let current = "";
    for (const segment of path.split("/")) {
      current = current === "" ? segment : `${current}/${segment}`;
      if (!this.nodes.has(current)) this.nodes.set(current, this.newNode("folder", new Uint8Array(0), 0o755));
    }
    this.emit(path);
  }

  symlink(path: string): void {
    this.nodes.set(path, this.newNode("symlink", new Uint8Array(0), 0o777));
    this.emit(path);
  }

  readFile(path: string): Uint8Array {
    const node = this.nodes.get(path);
    if (node?.kind !== "file") throw fsError("ENOENT", path);
    return node.data;
  }

  /** Every path below the root with its kind, sorted: a comparable picture of the tree. */
  list(): Array<[string, EntryKind]> {
    return [...this.nodes.entries()]
      .filter(([path]) => path !== "")
      .map(([path, node]): [string, EntryKind] => [path, node.kind])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async lstat(path: string): Promise<FileStat | null> {
    const node = this.nodes.get(path);
    if (!node) return null;
    return {
      kind: node.kind,
      size: node.data.length,
      mtimeMs: node.mtimeMs,
      ctimeMs: node.ctimeMs,
      inode: node.inode,
      mode: node.mode,
    };
  }

  async readdir(path: string): Promise<string[]> {
    this.requireFolder(path);
    const prefix = path === "" ? "" : `${path}/`;
    const names: string[] = [];
    for (const key of this.nodes.keys()) {
      if (key !== "" && key.startsWith(prefix) && !key.slice(prefix.length).includes("/")) {
        names.push(key.slice(prefix.length));
      }
    }
    return names;
  }

  async openRead(path: string): Promise<ReadHandle> {
    const node = this.nodes.get(path);
    if (node?.kind !== "file") throw fsError("ENOENT", path);
    return {
      stat: async () => (await this.lstat(path)) as FileStat,
      read: async (buffer, position) => {
        const bytes = node.data.subarray(position, position + buffer.length);
        buffer.set(bytes);
        return bytes.length;
      },
      close: async () => {},
    };
  }

  async createExclusive(path: string, mode = 0o644): Promise<WriteHandle> {
    this.requireFolder(parentPath(path));
    if (this.nodes.has(path)) throw fsError("EEXIST", path);
    const node = this.newNode("file", new Uint8Array(0), mode);
    this.nodes.set(path, node);
    return {
      write: async (data) => {
        const next = new Uint8Array(node.data.length + data.length);
        next.set(node.data);
        next.set(data, node.data.length);
        node.data = next;
        node.mtimeMs = node.ctimeMs = ++this.clock;
      },
      sync: async () => {},
      close: async () => {},
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const node = this.nodes.get(from);
    if (!node) throw fsError("ENOENT", from);
    this.requireFolder(parentPath(to));
    const target = this.nodes.get(to);
    if (target?.kind === "folder" && node.kind !== "folder") throw fsError("EISDIR", to);
    if (target?.kind === "folder" && (await this.readdir(to)).length > 0) throw fsError("ENOTEMPTY", to);
    const moved: Array<[string, MemoryNode]> = [];
    for (const [key, value] of this.nodes) {
      if (key === from || key.startsWith(`${from}/`)) moved.push([key, value]);
    }
    for (const [key] of moved) this.nodes.delete(key);
    for (const [key, value] of moved) this.nodes.set(to + key.slice(from.length), value);
    node.ctimeMs = ++this.clock;
    this.emit(from);
    this.emit(to);
  }

  async unlink(path: string): Promise<void> {
    const node = this.nodes.get(path);
    if (!node || node.kind === "folder") throw fsError(node ? "EISDIR" : "ENOENT", path);
    this.nodes.delete(path);
    this.emit(path);
  }

  async mkdir(path: string): Promise<void> {
    this.requireFolder(parentPath(path));
    if (this.nodes.has(path)) throw fsError("EEXIST", path);
    this.nodes.set(path, this.newNode("folder", new Uint8Array(0), 0o755));
    this.emit(path);
  }

  async rmdir(path: string): Promise<void> {
    this.requireFolder(path);
    if ((await this.readdir(path)).length > 0) throw fsError("ENOTEMPTY", path);
    this.nodes.delete(path);
    this.emit(path);
  }

  async chmod(path: string, mode: number): Promise<void> {
    const node = this.nodes.get(path);
    if (!node) throw fsError("ENOENT", path);
    node.mode = mode;
    node.ctimeMs = ++this.clock;
  }

  async syncFolder(): Promise<void> {}

  watch(onChange: (path: string | null) => void) {
    this.listeners.add(onChange);
    return { close: () => void this.listeners.delete(onChange) };
  }
}
