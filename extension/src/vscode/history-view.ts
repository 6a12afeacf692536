import * as vscode from "vscode";
import type { History } from "../engine/index.ts";
import {
  type DeletedFile,
  deletedFileItems,
  deletedGroupItem,
  sortDeleted,
  type VersionItem,
  versionItems,
} from "./history-model.ts";
import { relativeTo } from "./paths.ts";
import { toTreeItem } from "./tree-adapter.ts";

export type HistoryNode =
  | { kind: "version"; entry: VersionItem; deleted: boolean }
  | { kind: "message"; text: string; icon: string }
  | { kind: "deletedGroup"; files: DeletedFile[] }
  | { kind: "deletedFile"; file: DeletedFile };

/** The file whose history is shown: the active editor's, or one picked in the Explorer. */
export interface HistoryTarget {
  uri: vscode.Uri;
  path: string;
}

/**
 * The "File History" view: the versions of one file, newest first, and a "Recently deleted" group. It
 * follows the active editor, like VS Code's Timeline.
 */
export class HistoryView implements vscode.TreeDataProvider<HistoryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<HistoryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<HistoryNode>;
  private target: HistoryTarget | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly source: () => History | undefined,
    private readonly folder: () => vscode.Uri | undefined,
  ) {
    this.view = vscode.window.createTreeView("wsync.history", {
      treeDataProvider: this,
      showCollapseAll: false,
    });
    this.disposables.push(
      this.view,
      this.changed,
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor) this.follow(editor.document.uri);
      }),
    );
    const active = vscode.window.activeTextEditor;
    if (active) this.follow(active.document.uri);
  }

  /** Shows the history of `uri` if it is a file of the synced folder (editors of other schemes are ignored). */
  follow(uri: vscode.Uri): boolean {
    const path = this.relativePath(uri);
    if (path === undefined) return false;
    if (this.target?.path !== path) {
      this.target = { uri, path };
      this.view.description = path;
      this.refresh();
    }
    return true;
  }

  get current(): HistoryTarget | undefined {
    return this.target;
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  /**
   * After sync changed files: the shown file may have a new version and the Recently deleted group new
   * members. Bursts of changes (a pull of 500 files) refresh once.
   */
  onSyncChanged(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), 300);
  }

  getTreeItem(node: HistoryNode): vscode.TreeItem {
    const folder = this.folder();
    switch (node.kind) {
      case "version":
        return toTreeItem(node.entry.item, [node], folder);
      case "deletedGroup":
        return toTreeItem(deletedGroupItem(node.files.length));
      case "deletedFile": {
        const [model] = deletedFileItems([node.file], new Date());
        if (!model) throw new Error("unreachable");
        return toTreeItem(model, [node], folder);
      }
      case "message": {
        const item = new vscode.TreeItem(node.text);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        return item;
      }
    }
  }

  async getChildren(node?: HistoryNode): Promise<HistoryNode[]> {
    const source = this.source();
    if (!source) return [];
    if (!node) return this.rootNodes(source);
    if (node.kind === "deletedGroup") {
      return sortDeleted(node.files).map((file) => ({ kind: "deletedFile" as const, file }));
    }
    if (node.kind === "deletedFile") {
      const versions = await source.versions(node.file.fileId);
      return versionItems(node.file.fileId, node.file.path, versions, new Date(), { deleted: true }).map(
        (entry) => ({
          kind: "version" as const,
          entry,
          deleted: true,
        }),
      );
    }
    return [];
  }

  private async rootNodes(source: History): Promise<HistoryNode[]> {
    const nodes: HistoryNode[] = [];
    if (this.target) {
      const fileId = source.fileIdOf(this.target.path);
      if (!fileId) {
        nodes.push({ kind: "message", text: `${this.target.path} has not been synced yet`, icon: "info" });
      } else {
        try {
          const versions = await source.versions(fileId);
          for (const entry of versionItems(fileId, this.target.path, versions, new Date())) {
            nodes.push({ kind: "version", entry, deleted: false });
          }
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          nodes.push({ kind: "message", text: `Could not load the history: ${reason}`, icon: "error" });
        }
      }
    }
    const deleted = source.deleted();
    if (deleted.length > 0) nodes.push({ kind: "deletedGroup", files: deleted });
    return nodes;
  }

  private relativePath(uri: vscode.Uri): string | undefined {
    const folder = this.folder();
    if (!folder || uri.scheme !== folder.scheme) return undefined;
    const path = relativeTo(folder.path, uri.path);
    return path === "" ? undefined : path;
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }
}
