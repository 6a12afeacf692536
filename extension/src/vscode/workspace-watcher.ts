import * as vscode from "vscode";
import type { FileSystem } from "../engine/index.ts";
import { relativeTo } from "./paths.ts";

/**
 * The engine's change feed from VS Code's own file watcher (`createFileSystemWatcher`), which reports
 * edits saved in the editor and changes made by other programs alike. Events are hints: the engine
 * rescans the path, so the duplicates the watcher sends are harmless.
 */
export function workspaceWatch(folder: vscode.Uri): NonNullable<FileSystem["watch"]> {
  return (onChange) => {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, "**/*"));
    const relay = (uri: vscode.Uri) => {
      const path = relativeTo(folder.path, uri.path);
      // The folder itself changed (moved, replaced): the engine rescans everything.
      if (path !== undefined) onChange(path === "" ? null : path);
    };
    const subscriptions = [
      watcher.onDidCreate(relay),
      watcher.onDidChange(relay),
      watcher.onDidDelete(relay),
    ];
    return {
      close: () => {
        for (const subscription of subscriptions) subscription.dispose();
        watcher.dispose();
      },
    };
  };
}
