import * as vscode from "vscode";
import {
  type Conflict,
  conflictDiffTitle,
  conflictItem,
  conflictNotice,
  newConflicts,
  type Resolution,
  type ResolutionStep,
  resolutionSteps,
} from "./conflict-model.ts";
import type { Log } from "./log.ts";
import { toTreeItem } from "./tree-adapter.ts";

/** The conflicted copies in the synced folder now (the engine's view of the folder, see sync-session.ts). */
export interface ConflictSource {
  conflicts(): Conflict[];
}

/**
 * The "Conflicts" view: conflicted copies not yet resolved. A copy that appears also raises a notification
 * whose "Compare" opens the diff editor with the original and the copy.
 */
export class ConflictsView implements vscode.TreeDataProvider<Conflict>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Conflict | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Conflict>;
  private known: Conflict[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly source: () => ConflictSource | undefined,
    private readonly folder: () => vscode.Uri | undefined,
    private readonly log: Log,
  ) {
    this.view = vscode.window.createTreeView("wsync.conflicts", { treeDataProvider: this });
    this.disposables.push(
      this.view,
      this.changed,
      vscode.commands.registerCommand("wsync.conflicts.refresh", () => this.update()),
      vscode.commands.registerCommand("wsync.conflicts.compare", (conflict?: Conflict) =>
        this.compare(conflict),
      ),
      vscode.commands.registerCommand("wsync.conflicts.keepMine", (conflict?: Conflict) =>
        this.resolve("keepMine", conflict),
      ),
      vscode.commands.registerCommand("wsync.conflicts.keepTheirs", (conflict?: Conflict) =>
        this.resolve("keepTheirs", conflict),
      ),
      vscode.commands.registerCommand("wsync.conflicts.markMerged", (conflict?: Conflict) =>
        this.resolve("merged", conflict),
      ),
    );
  }

  /** The number of unresolved conflicts, for the status bar. */
  get count(): number {
    return this.known?.length ?? 0;
  }

  /**
   * Re-reads the conflicts after sync changed files; notifies each new copy once. The first read after
   * start notifies nothing: copies already there were announced before.
   */
  update(): void {
    const now = this.source()?.conflicts() ?? [];
    const before = this.known;
    this.known = now;
    this.view.badge =
      now.length > 0 ? { value: now.length, tooltip: `${now.length} conflicted copies` } : undefined;
    this.changed.fire(undefined);
    if (before === undefined) return;
    for (const conflict of newConflicts(before, now)) void this.announce(conflict);
  }

  private async announce(conflict: Conflict): Promise<void> {
    this.log.warn(`conflict: ${conflict.originalPath} has a conflicted copy ${conflict.copyPath}`);
    const compare = "Compare";
    const choice = await vscode.window.showWarningMessage(
      `Workspace Sync: ${conflictNotice(conflict)}`,
      compare,
    );
    if (choice === compare) await this.compare(conflict);
  }

  getTreeItem(conflict: Conflict): vscode.TreeItem {
    return toTreeItem(conflictItem(conflict, new Date()), [conflict], this.folder());
  }

  getChildren(conflict?: Conflict): Conflict[] {
    if (conflict) return [];
    if (this.known === undefined) this.update();
    return this.known ?? [];
  }

  private async compare(conflict?: Conflict): Promise<void> {
    const root = this.folder();
    if (!conflict || !root) return;
    await vscode.commands.executeCommand(
      "vscode.diff",
      vscode.Uri.joinPath(root, conflict.originalPath),
      vscode.Uri.joinPath(root, conflict.copyPath),
      conflictDiffTitle(conflict),
    );
  }

  private async resolve(resolution: Resolution, conflict?: Conflict): Promise<void> {
    const root = this.folder();
    if (!conflict || !root) return;
    const uri = (path: string) => vscode.Uri.joinPath(root, path);
    if (resolution === "keepMine" && isDirty(uri(conflict.originalPath))) {
      const replace = "Replace Unsaved Changes";
      const choice = await vscode.window.showWarningMessage(
        `${conflict.originalPath} has unsaved changes. Replace them with the conflicted copy's content?`,
        { modal: true },
        replace,
      );
      if (choice !== replace) return;
    }
    try {
      for (const step of resolutionSteps(resolution, conflict)) await apply(step, uri);
      this.log.info(`conflict on ${conflict.originalPath} resolved (${resolution})`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.error(`resolving the conflict on ${conflict.originalPath} failed: ${reason}`);
      vscode.window.showErrorMessage(`Workspace Sync: could not resolve the conflict: ${reason}`);
    }
    this.update();
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }
}

function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString());
}

function isDirty(uri: vscode.Uri): boolean {
  return openDocument(uri)?.isDirty === true;
}

async function apply(step: ResolutionStep, uri: (path: string) => vscode.Uri): Promise<void> {
  switch (step.op) {
    case "save": {
      const document = openDocument(uri(step.path));
      if (document?.isDirty) await document.save();
      return;
    }
    case "copy": {
      const target = uri(step.to);
      const bytes = await vscode.workspace.fs.readFile(uri(step.from));
      const document = openDocument(target);
      if (document) {
        // Through the open editor, so it shows the kept content at once and no "file changed on disk" races.
        const edit = new vscode.WorkspaceEdit();
        const all = new vscode.Range(0, 0, document.lineCount, 0);
        edit.replace(target, document.validateRange(all), new TextDecoder().decode(bytes));
        await vscode.workspace.applyEdit(edit);
        await document.save();
      } else {
        await vscode.workspace.fs.writeFile(target, bytes);
      }
      return;
    }
    case "delete": {
      // Close the copy's editors first, or VS Code keeps showing a file that is gone.
      const copy = uri(step.path);
      const tabs = vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .filter((tab) => {
          const input = tab.input;
          if (input instanceof vscode.TabInputText) return input.uri.toString() === copy.toString();
          if (input instanceof vscode.TabInputTextDiff) return input.modified.toString() === copy.toString();
          return false;
        });
      if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
      try {
        await vscode.workspace.fs.delete(copy, { useTrash: true });
      } catch {
        // No trash where the folder lives (remote, some Linux setups): its versions stay in File History.
        await vscode.workspace.fs.delete(copy, { useTrash: false });
      }
      return;
    }
  }
}
