import * as vscode from "vscode";
import type { History } from "../engine/index.ts";
import { formatAge } from "./format.ts";
import { latestRestorableVersion } from "./history-model.ts";
import type { HistoryNode, HistoryView } from "./history-view.ts";
import type { Log } from "./log.ts";
import { VersionFileSystem } from "./version-fs.ts";
import { versionDiffTitle } from "./version-uri.ts";

export function registerHistoryCommands(
  view: HistoryView,
  history: () => History | undefined,
  folder: () => vscode.Uri | undefined,
  log: Log,
): vscode.Disposable[] {
  const versionOf = (node: unknown) =>
    node && typeof node === "object" && (node as HistoryNode).kind === "version"
      ? (node as Extract<HistoryNode, { kind: "version" }>)
      : undefined;

  return [
    vscode.commands.registerCommand("wsync.history.show", async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (target && !view.follow(target)) {
        vscode.window.showWarningMessage(
          "Workspace Sync keeps the history of files in the synced folder only.",
        );
        return;
      }
      await vscode.commands.executeCommand("wsync.history.focus");
    }),
    vscode.commands.registerCommand("wsync.history.refresh", () => view.refresh()),
    vscode.commands.registerCommand("wsync.history.open", async (node?: unknown) => {
      const ref = versionOf(node)?.entry.ref;
      if (!ref) return;
      await vscode.commands.executeCommand("vscode.open", VersionFileSystem.uriOf(ref), { preview: true });
    }),
    vscode.commands.registerCommand("wsync.history.compare", async (node?: unknown) => {
      const ref = versionOf(node)?.entry.ref;
      const root = folder();
      if (!ref || !root) return;
      // Old on the left, current on the right: what changed since then reads as additions.
      await vscode.commands.executeCommand(
        "vscode.diff",
        VersionFileSystem.uriOf(ref),
        vscode.Uri.joinPath(root, view.current?.path ?? ref.path),
        versionDiffTitle(ref),
        { preview: true },
      );
    }),
    vscode.commands.registerCommand("wsync.history.restore", async (node?: unknown) => {
      const entry = versionOf(node)?.entry;
      const ref = entry?.ref;
      const source = history();
      if (!entry || !ref || !source) return;
      const when = formatAge(new Date(entry.version.createdAt), new Date());
      const confirm = "Restore";
      const choice = await vscode.window.showWarningMessage(
        `Restore ${ref.path} to version ${ref.version} (${when})?`,
        { modal: true, detail: "The current content stays in File History, so this can be undone." },
        confirm,
      );
      if (choice !== confirm) return;
      await runRestore(
        () => source.restore(ref.fileId, ref.version),
        `${ref.path} restored to version ${ref.version}.`,
        log,
      );
      view.refresh();
    }),
    vscode.commands.registerCommand("wsync.history.restoreDeleted", async (node?: unknown) => {
      const source = history();
      if (!source || !node || typeof node !== "object") return;
      const typed = node as HistoryNode;
      let fileId: string;
      let path: string;
      let fromVersion: number | undefined;
      if (typed.kind === "deletedFile") {
        fileId = typed.file.fileId;
        path = typed.file.path;
        fromVersion = latestRestorableVersion(await source.versions(fileId))?.version;
      } else if (typed.kind === "version" && typed.entry.ref) {
        fileId = typed.entry.ref.fileId;
        path = typed.entry.ref.path;
        fromVersion = typed.entry.ref.version;
      } else {
        return;
      }
      if (fromVersion === undefined) {
        vscode.window.showWarningMessage(`${path} has no version with content to bring back.`);
        return;
      }
      const from = fromVersion;
      await runRestore(
        () => source.restoreDeleted(fileId, from),
        `${path} is back (from version ${from}).`,
        log,
      );
      view.refresh();
    }),
  ];
}

async function runRestore(restore: () => Promise<void>, done: string, log: Log): Promise<void> {
  try {
    await vscode.window.withProgress({ location: { viewId: "wsync.history" }, title: "Restoring…" }, restore);
    log.info(done);
    vscode.window.showInformationMessage(done);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.error(`restore failed: ${reason}`);
    vscode.window.showErrorMessage(`Workspace Sync: the restore failed: ${reason}`);
  }
}
