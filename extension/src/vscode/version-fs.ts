import * as vscode from "vscode";
import { parseVersionUri, VERSION_SCHEME, type VersionRef, versionUriParts } from "./version-uri.ts";

/** Where old versions' bytes come from (the engine: download, verify and join the version's chunks). */
export interface VersionSource {
  readVersion(fileId: string, version: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/**
 * Old versions as read-only documents under `wsync-version:` (see version-uri.ts). A version never
 * changes, so its bytes are cached for the session: opening it and diffing it costs one download.
 */
export class VersionFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly cache = new Map<string, Promise<Uint8Array>>();
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  private readonly registration: vscode.Disposable;
  private static readonly maxCached = 32;

  constructor(private readonly source: () => VersionSource | undefined) {
    this.registration = vscode.workspace.registerFileSystemProvider(VERSION_SCHEME, this, {
      isCaseSensitive: true,
      isReadonly: new vscode.MarkdownString(
        "An earlier version from Workspace Sync's File History: read-only.",
      ),
    });
  }

  static uriOf(ref: VersionRef): vscode.Uri {
    return vscode.Uri.from(versionUriParts(ref));
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const bytes = await this.read(uri);
    return {
      type: vscode.FileType.File,
      ctime: 0,
      mtime: 0,
      size: bytes.byteLength,
      permissions: vscode.FilePermission.Readonly,
    };
  }

  readFile(uri: vscode.Uri): Promise<Uint8Array> {
    return this.read(uri);
  }

  private read(uri: vscode.Uri): Promise<Uint8Array> {
    const ref = parseVersionUri(uri);
    if (!ref) throw vscode.FileSystemError.FileNotFound(uri);
    const source = this.source();
    if (!source)
      throw vscode.FileSystemError.Unavailable("Sign in to Workspace Sync to open earlier versions");
    const key = `${ref.fileId}@${ref.version}`;
    let bytes = this.cache.get(key);
    if (!bytes) {
      bytes = source.readVersion(ref.fileId, ref.version);
      this.cache.set(key, bytes);
      // A failed download is not cached: the next open tries again.
      bytes.catch(() => this.cache.delete(key));
      while (this.cache.size > VersionFileSystem.maxCached) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
    }
    return bytes.catch((error: unknown) => {
      throw vscode.FileSystemError.Unavailable(
        `Could not download version ${ref.version}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  readDirectory(): never {
    throw vscode.FileSystemError.NoPermissions("earlier versions are single files");
  }
  createDirectory(): never {
    throw vscode.FileSystemError.NoPermissions("earlier versions are read-only");
  }
  writeFile(): never {
    throw vscode.FileSystemError.NoPermissions("earlier versions are read-only; restore one instead");
  }
  delete(): never {
    throw vscode.FileSystemError.NoPermissions("earlier versions are read-only");
  }
  rename(): never {
    throw vscode.FileSystemError.NoPermissions("earlier versions are read-only");
  }

  dispose(): void {
    this.registration.dispose();
    this.emitter.dispose();
  }
}
