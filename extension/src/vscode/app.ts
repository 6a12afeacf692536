import { hostname } from "node:os";
import * as vscode from "vscode";
import { createAccount, signIn, signOut } from "./auth-commands.ts";
import { ConflictsView } from "./conflicts-view.ts";
import { snapshotFromEngine } from "./engine-status.ts";
import { registerHistoryCommands } from "./history-commands.ts";
import { HistoryView } from "./history-view.ts";
import type { Log } from "./log.ts";
import type { StoredSession } from "./session-model.ts";
import { SessionStore } from "./session-store.ts";
import { needsRestart, readSettings, type Settings } from "./settings.ts";
import { StatusBar } from "./status-bar.ts";
import { showStatusDetails } from "./status-details.ts";
import type { StatusSnapshot } from "./status-model.ts";
import { SyncSession } from "./sync-session.ts";
import { VersionFileSystem } from "./version-fs.ts";

/**
 * The extension's state: settings, the signed-in session, and (signed in, with a folder open) the sync of
 * the window's first folder. The views and commands are thin layers over it.
 */
export class WsyncApp implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly sessions: SessionStore;
  private readonly statusBar = new StatusBar();
  private readonly history: HistoryView;
  private readonly conflicts: ConflictsView;
  private settings: Settings;
  private session: StoredSession | undefined;
  private sync: SyncSession | undefined;
  /** Session changes run one after another: a sign-in while the previous engine stops waits for it. */
  private lifecycle: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
  ) {
    this.sessions = new SessionStore(context.secrets);
    this.settings = this.loadSettings();
    const folder = () => this.folder();
    this.history = new HistoryView(() => this.sync?.engine.history, folder);
    this.conflicts = new ConflictsView(() => this.sync, folder, log);
    this.disposables.push(
      this.sessions,
      this.statusBar,
      this.history,
      this.conflicts,
      new VersionFileSystem(() => {
        const history = this.sync?.engine.history;
        return history && { readVersion: (fileId, version) => history.readVersion(fileId, version) };
      }),
      ...registerHistoryCommands(this.history, () => this.sync?.engine.history, folder, log),
    );
  }

  async start(): Promise<void> {
    this.registerCommands();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration("wsync")) this.onSettingsChanged();
      }),
      this.sessions.onDidChange((serverUrl) => {
        if (serverUrl === this.settings.serverUrl) this.reload();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.reload()),
    );
    this.reload();
    await this.lifecycle;
  }

  /** The synced folder: the window's first folder, when it is on a disk the engine can reach. */
  private folder(): vscode.Uri | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder?.scheme === "file" ? folder : undefined;
  }

  private loadSettings(): Settings {
    const config = vscode.workspace.getConfiguration("wsync");
    const { settings, problems } = readSettings((key) => config.get(key), hostname());
    for (const problem of problems) this.log.warn(`setting wsync.${problem.key}: ${problem.message}`);
    return settings;
  }

  private onSettingsChanged(): void {
    const before = this.settings;
    this.settings = this.loadSettings();
    if (needsRestart(before, this.settings)) {
      this.reload();
    } else if (before.paused !== this.settings.paused) {
      if (this.settings.paused) this.sync?.engine.pause();
      else this.sync?.engine.resume();
      this.render();
    }
  }

  /** Re-reads the session and (re)starts or stops sync to match it. */
  private reload(): void {
    this.lifecycle = this.lifecycle
      .then(() => this.applySession())
      .catch((error: unknown) => {
        this.log.error(`starting sync failed: ${error instanceof Error ? error.message : String(error)}`);
        this.render();
      });
  }

  private async applySession(): Promise<void> {
    const session = await this.sessions.get(this.settings.serverUrl);
    const folder = this.folder();
    await this.stopSync();
    this.session = session;
    await vscode.commands.executeCommand("setContext", "wsync.signedIn", session !== undefined);
    this.render();
    if (!session || !folder) {
      if (session && !folder) this.log.info("no folder on disk is open: nothing to sync");
      return;
    }
    this.log.info(
      `syncing ${folder.fsPath} as ${session.email} (device "${session.deviceName}") with ${session.serverUrl}`,
    );
    const sync = new SyncSession(
      folder,
      session,
      this.settings,
      this.context.globalStorageUri.fsPath,
      this.log,
      {
        onStatus: () => this.render(),
        onFilesChanged: () => {
          this.conflicts.update();
          this.history.onSyncChanged();
          this.render();
        },
        onUnauthorized: () => void this.onRevoked(session),
      },
    );
    this.sync = sync;
    if (this.settings.paused) sync.engine.pause();
    await sync.start();
    this.render();
  }

  private async stopSync(): Promise<void> {
    const sync = this.sync;
    this.sync = undefined;
    if (!sync) return;
    await sync.stop();
    sync.dispose();
    this.conflicts.update();
    this.history.refresh();
  }

  /** The server refused the token: this device was revoked (signed out from another device). */
  private async onRevoked(session: StoredSession): Promise<void> {
    if (this.session?.deviceId !== session.deviceId) return;
    this.log.warn("the server refused this device's token: it was revoked; signing out here");
    await this.sessions.delete(session.serverUrl);
    const choice = await vscode.window.showWarningMessage(
      "Workspace Sync: this device was signed out (its access was revoked from another device). Your files stay on disk.",
      "Sign In",
    );
    if (choice === "Sign In") await vscode.commands.executeCommand("wsync.signIn");
  }

  private snapshot(): StatusSnapshot {
    return snapshotFromEngine({
      account: this.session?.email,
      engine: this.sync?.engine.status(),
      pausedSetting: this.settings.paused,
      transfer: {
        active: this.sync?.tracker.active() ?? 0,
        progress: this.sync?.tracker.progress() ?? empty,
      },
      held: this.sync?.guard.held().length ?? 0,
      conflicts: this.conflicts.count,
    });
  }

  private render(): void {
    void vscode.commands.executeCommand("setContext", "wsync.paused", this.snapshot().paused);
    this.statusBar.update(this.snapshot());
  }

  private registerCommands(): void {
    const deps = { sessions: this.sessions, settings: () => this.settings, log: this.log };
    const register = (id: string, run: (...args: unknown[]) => unknown) =>
      this.disposables.push(vscode.commands.registerCommand(id, run));
    register("wsync.signIn", () => signIn(deps));
    register("wsync.createAccount", () => createAccount(deps));
    register("wsync.signOut", async () => {
      if (this.session) await signOut(deps, this.session);
    });
    register("wsync.syncNow", () => this.syncNow());
    register("wsync.pause", () => this.setPaused(true));
    register("wsync.resume", () => this.setPaused(false));
    register("wsync.showLog", () => (this.log as vscode.LogOutputChannel).show());
    register("wsync.showStatus", () => showStatusDetails(this.snapshot()));
  }

  private async syncNow(): Promise<void> {
    const sync = this.sync;
    if (!sync) {
      vscode.window.showInformationMessage(
        this.session ? "Workspace Sync: open a folder to sync it." : "Workspace Sync: sign in first.",
      );
      return;
    }
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: "$(sync~spin) Syncing" },
      () => sync.engine.syncNow(),
    );
  }

  private async setPaused(paused: boolean): Promise<void> {
    // The engine first (a Cancel may have paused it while the setting still says "not paused").
    if (paused) this.sync?.engine.pause();
    else this.sync?.engine.resume();
    // User settings, not the workspace's: .vscode/settings.json is synced to the other devices.
    await vscode.workspace
      .getConfiguration("wsync")
      .update("paused", paused, vscode.ConfigurationTarget.Global);
    this.render();
  }

  async stop(): Promise<void> {
    await this.lifecycle;
    await this.stopSync();
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }
}

const empty = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
