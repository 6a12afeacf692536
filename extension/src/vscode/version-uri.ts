/**
 * Old versions open under their own URI scheme, served read-only by version-fs.ts, so that the editor
 * can show them and `vscode.diff` can compare them with the current file (as the git extension does with
 * `git:` URIs). The URI keeps the file's path, so the editor picks the right language and title; the
 * query names the exact version.
 */
export const VERSION_SCHEME = "wsync-version";

export interface VersionRef {
  fileId: string;
  version: number;
  /** The file's path in the workspace folder, `/`-separated, no leading slash. */
  path: string;
}

/** The parts of a URI this codec fills: `vscode.Uri.from({ scheme, path, query })` takes them as they are. */
export interface UriParts {
  scheme: string;
  path: string;
  query: string;
}

export function versionUriParts(ref: VersionRef): UriParts {
  const query = new URLSearchParams({ fileId: ref.fileId, version: String(ref.version) }).toString();
  return { scheme: VERSION_SCHEME, path: `/${ref.path.replace(/^\/+/, "")}`, query };
}

/** The version a URI names, or undefined when it is not one of ours or is malformed. */
export function parseVersionUri(parts: UriParts): VersionRef | undefined {
  if (parts.scheme !== VERSION_SCHEME) return undefined;
  const query = new URLSearchParams(parts.query);
  const fileId = query.get("fileId");
  const version = Number(query.get("version"));
  if (!fileId || !Number.isInteger(version) || version < 1) return undefined;
  return { fileId, version, path: parts.path.replace(/^\/+/, "") };
}

/** The diff editor's title: "notes.md (v3) ↔ current". */
export function versionDiffTitle(ref: VersionRef): string {
  const name = ref.path.split("/").pop() ?? ref.path;
  return `${name} (version ${ref.version}) ↔ current`;
}
