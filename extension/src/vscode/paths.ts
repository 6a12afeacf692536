/** A URI path under the folder's, as the engine's workspace-relative POSIX path; undefined outside it. */
export function relativeTo(folderPath: string, path: string): string | undefined {
  const root = folderPath.endsWith("/") ? folderPath : `${folderPath}/`;
  if (path === folderPath || path === root) return "";
  return path.startsWith(root) ? path.slice(root.length) : undefined;
}
