import type { RemoteEntry, SyncedEntry } from "./types.ts";

/**
 * The executable bit, as it syncs (shared-protocol `Executable`): the owner's exec bit on POSIX. The
 * server stores one boolean per version; each device maps it to and from its own permission bits.
 */

/** Windows has no executable bit (Node reports none): there the server's bit is kept as it is. */
export const EXEC_BIT_SUPPORTED = process.platform !== "win32";

/** Whether a mode (as `FileStat.mode` gives it) lets its owner execute the file. */
export function isExecutable(mode: number): boolean {
  return (mode & 0o100) !== 0;
}

/**
 * `mode` made executable or not, umask style: executable adds an exec bit wherever there is a read
 * bit (0644 becomes 0755, 0600 becomes 0700); not executable drops every exec bit.
 */
export function withExecutable(mode: number, executable: boolean): number {
  const permissions = mode & 0o777;
  return executable ? permissions | ((permissions & 0o444) >> 2) : permissions & ~0o111;
}

/**
 * The bit to send with a file's content: its own where the file system has one, else the bit the
 * server already holds for it (`known`; false for a new file), so a Windows edit never clears it.
 */
export function executableToSend(mode: number, known: boolean | undefined): boolean {
  return EXEC_BIT_SUPPORTED ? isExecutable(mode) : (known ?? false);
}

/**
 * Whether the local file's bit changed since it was synced: against the mode it had then, or, when
 * that is unknown (mode 0: the local half was not recorded), against the server's bit of then. State
 * from before the bit synced (no `executable` recorded) is measured against the server's bit, false
 * for every version of then: a file executable here sends its bit once, whatever its mode was.
 */
export function localExecutableChanged(
  base: Pick<SyncedEntry, "mode" | "executable">,
  mode: number,
): boolean {
  if (!EXEC_BIT_SUPPORTED) return false;
  if (base.executable === undefined) return isExecutable(mode);
  const was = base.mode === 0 ? base.executable : isExecutable(base.mode);
  return isExecutable(mode) !== was;
}

export function remoteExecutableChanged(
  base: Pick<SyncedEntry, "executable">,
  remote: Pick<RemoteEntry, "executable">,
): boolean {
  return (remote.executable ?? false) !== (base.executable ?? false);
}

/** Whether a local file's bit is the server's (always, where the file system has none). */
export function sameExecutable(mode: number, remote: Pick<RemoteEntry, "executable">): boolean {
  return !EXEC_BIT_SUPPORTED || isExecutable(mode) === (remote.executable ?? false);
}
