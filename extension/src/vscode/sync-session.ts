import { createHash } from "node:crypto";
import { join } from "node:path";
import * as vscode from "vscode";
import { conflictedCopyName, createSyncEngine, NodeFileSystem, type SyncEngine } from "../engine/index.ts";
import type { Conflict } from "./conflict-model.ts";
import { findConflicts } from "./conflict-model.ts";
import { parseConflictedCopyName } from "./conflict-name.ts";
import { DirtyGuard } from "./dirty-guard.ts";
import { guardedFileSystem } from "./guarded-fs.ts";
import type { Log } from "./log.ts";
import { relativeTo } from "./paths.ts";
import { TransferProgressNotifier } from "./progress-notifier.ts";
import type { StoredSession } from "./session-model.ts";
import type { Settings } from "./settings.ts";
import { syncOptions } from "./sync-options.ts";
import { TransferTracker } from "./transfer-tracker.ts";
import { workspaceWatch } from "./workspace-watcher.ts";

export interface SyncSessionEvents {
  /** Something the status bar shows changed. */
  onStatus(): void;
  /** A pass applied changes to these paths (or the set of conflicted copies may have changed). */
  onFilesChanged(paths: string[]): void;
  /** The server refused this device's token: it was revoked. */
  onUnauthorized(): void;
}

/**
 * One folder kept in sync for one signed-in device: the engine, and the VS Code edges it needs (the
 * editor's file watcher, the unsaved-edits guard, transfer progress, the conflicted copies on disk).
 */
export class SyncSession implements vscode.Disposable {
  readonly engine: SyncEngine;
  readonly tracker = new TransferTracker();
  readonly guard: DirtyGuard;
  private copies: Conflict[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private readonly progress: TransferProgressNotifier;
  private conflictScan: ReturnType<typeof setTimeout> | undefined;
  private lastState: string | undefined;

  constructor(
    readonly folder: vscode.Uri,
    readonly session: StoredSession,
    settings: Settings,
    storageDir: string,
    private readonly log: Log,
    private readonly events: SyncSessionEvents,
  ) {
    this.guard = new DirtyGuard(
      (path) => this.documentAt(path)?.isDirty === true,
      (path) => void this.askAboutUnsavedEdits(path),
    );
    this.engine = createSyncEngine({
      ...syncOptions(settings, session, folder.fsPath, stateDirFor(storageDir, session, folder)),
      fileSystem: guardedFileSystem(new NodeFileSystem(folder.fsPath), {
        allowsReplace: (path) => this.guard.allows(path),
        watch: workspaceWatch(folder),
      }),
    });
    this.progress = new TransferProgressNotifier(this.tracker, () => this.cancelTransfers());
    this.unsubscribe.push(
      this.engine.on("log", ({ level, message, data }) => {
        const line = data ? `${message} ${JSON.stringify(data)}` : message;
        this.log[level === "debug" ? "debug" : level](line);
      }),
      this.engine.on("status", (status) => {
        if (status.state !== this.lastState) {
          // Passes come and go every few seconds: only the states a user acts on are worth an info line.
          const routine =
            status.state === "syncing" || (status.state === "idle" && this.lastState === "syncing");
          const error = status.lastError ? `: ${status.lastError.message}` : "";
          const line = `sync is ${status.state}${status.state === "error" || status.state === "offline" ? error : ""}`;
          if (routine) this.log.debug(line);
          else this.log.info(line);
          this.lastState = status.state;
        }
        if (status.state !== "syncing") {
          this.tracker.reset();
          this.progress.passEnded();
        }
        if (status.state === "unauthorized") events.onUnauthorized();
        events.onStatus();
      }),
      this.engine.on("transfer", (event) => {
        // Downloads are logged when they land ("applied ... here"); their size is not known before.
        if (TransferTracker.completes(event))
          this.log.info(`uploaded ${event.path} (${event.bytesTotal} bytes)`);
        this.tracker.record(event);
        this.progress.update();
        events.onStatus();
      }),
      this.engine.on("synced", ({ paths }) => {
        const shown = paths.slice(0, 20).join(", ");
        this.log.info(`applied ${paths.length} change(s) here: ${shown}${paths.length > 20 ? ", …" : ""}`);
        this.scheduleConflictScan();
        events.onFilesChanged(paths);
      }),
      this.engine.on("conflict", (conflict) => {
        this.log.warn(
          `conflict on ${conflict.path}: this device's edit is kept as ${conflict.copyPath} (${conflict.reason})`,
        );
        this.scheduleConflictScan();
      }),
    );
    this.disposables.push(
      this.progress,
      // "Keep editing" holds a download until the unsaved edits are saved or dropped.
      vscode.workspace.onDidSaveTextDocument((document) => this.settle(document.uri)),
      vscode.workspace.onDidCloseTextDocument((document) => this.settle(document.uri)),
    );
    const copies = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(folder, "**/*(conflicted copy - *"),
      false,
      true,
      false,
    );
    this.disposables.push(
      copies,
      copies.onDidCreate(() => this.scheduleConflictScan()),
    );
    this.disposables.push(copies.onDidDelete(() => this.scheduleConflictScan()));
  }

  async start(): Promise<void> {
    await this.scanConflicts();
    await this.engine.start();
  }

  /** The conflicted copies in the folder now. */
  conflicts(): Conflict[] {
    return this.copies;
  }

  private scheduleConflictScan(): void {
    clearTimeout(this.conflictScan);
    this.conflictScan = setTimeout(() => void this.scanConflicts(), 200);
  }

  private async scanConflicts(): Promise<void> {
    const found = await vscode.workspace.findFiles(
      new vscode.RelativePattern(this.folder, "**/*(conflicted copy - *"),
    );
    const paths = found.flatMap((uri) => relativeTo(this.folder.path, uri.path) ?? []);
    this.copies = findConflicts(paths, parseConflictedCopyName);
    this.events.onFilesChanged([]);
  }

  private documentAt(path: string): vscode.TextDocument | undefined {
    const uri = vscode.Uri.joinPath(this.folder, path).toString();
    return vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri);
  }

  private settle(uri: vscode.Uri): void {
    const path = relativeTo(this.folder.path, uri.path);
    if (path === undefined || !this.guard.held().includes(path)) return;
    this.guard.settled(path);
    void this.engine.syncNow();
  }

  private async askAboutUnsavedEdits(path: string): Promise<void> {
    this.log.info(`a newer version of ${path} waits: the file has unsaved edits`);
    this.events.onStatus();
    const load = "Load New Version";
    const keep = "Keep Editing";
    const choice = await vscode.window.showWarningMessage(
      `A newer version of ${path} arrived from another device, but you have unsaved changes in it.`,
      {
        detail:
          "Load New Version keeps your unsaved changes as a conflicted copy. Keep Editing holds the new version until you save or close the file; then both are kept.",
      },
      load,
      keep,
    );
    if (choice === load) {
      const document = this.documentAt(path);
      if (document?.isDirty) await this.keepUnsavedAsCopy(path, document);
    }
    this.guard.answer(path, choice === load ? "load" : choice === keep ? "keep" : undefined);
    this.events.onStatus();
    if (choice === load) await this.engine.syncNow();
  }

  /** The unsaved text goes to a conflicted copy beside the file; then the editor shows the disk again. */
  private async keepUnsavedAsCopy(path: string, document: vscode.TextDocument): Promise<void> {
    const slash = path.lastIndexOf("/");
    const folder = slash >= 0 ? path.slice(0, slash + 1) : "";
    const existing = new Set(
      (await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(this.folder, folder || "."))).map(
        ([name]) => name,
      ),
    );
    const copyName = conflictedCopyName(path.slice(slash + 1), this.session.deviceName, new Date(), (name) =>
      existing.has(name),
    );
    await vscode.workspace.fs.writeFile(
      vscode.Uri.joinPath(this.folder, `${folder}${copyName}`),
      new TextEncoder().encode(document.getText()),
    );
    this.log.info(`unsaved edits of ${path} kept as ${folder}${copyName}`);
    await vscode.window.showTextDocument(document, { preview: false });
    await vscode.commands.executeCommand("workbench.action.files.revert");
  }

  /** Cancel on the progress notification: stop after what is in flight, until the user resumes. */
  private cancelTransfers(): void {
    this.engine.pause();
    this.log.info("transfers cancelled: sync paused");
    void vscode.window
      .showInformationMessage(
        "Workspace Sync is paused. Your changes are kept and sent when you resume.",
        "Resume",
      )
      .then((choice) => {
        if (choice === "Resume") void vscode.commands.executeCommand("wsync.resume");
      });
  }

  async stop(): Promise<void> {
    clearTimeout(this.conflictScan);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.engine.stop();
  }

  dispose(): void {
    clearTimeout(this.conflictScan);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }
}

/** One state folder per server, account and workspace folder: another account never reuses it. */
export function stateDirFor(storageDir: string, session: StoredSession, folder: vscode.Uri): string {
  const key = createHash("sha256")
    .update(`${session.serverUrl}\n${session.userId}\n${folder.toString()}`)
    .digest("hex");
  return join(storageDir, "engines", key.slice(0, 24));
}
