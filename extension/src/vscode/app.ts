import { hostname } from "node:os";
import * as vscode from "vscode";
import { createAccount, signIn, signOut } from "./auth-commands.ts";
import type { Log } from "./log.ts";
import type { StoredSession } from "./session-model.ts";
import { SessionStore } from "./session-store.ts";
import { needsRestart, readSettings, type Settings } from "./settings.ts";
import { StatusBar } from "./status-bar.ts";
import { type StatusSnapshot, statusDetails } from "./status-model.ts";

/**
 * The extension's state: settings, the signed-in session, and (when signed in with a folder open) the
 * sync of the first workspace folder. Views and commands are thin layers over it.
 */
export class WsyncApp implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly sessions: SessionStore;
  private readonly statusBar = new StatusBar();
  private settings: Settings;
  private session: StoredSession | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
  ) {
    this.sessions = new SessionStore(context.secrets);
    this.settings = this.loadSettings();
    this.disposables.push(this.sessions, this.statusBar);
  }

  async start(): Promise<void> {
    this.registerCommands();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration("wsync")) void this.onSettingsChanged();
      }),
      this.sessions.onDidChange((serverUrl) => {
        if (serverUrl === this.settings.serverUrl) void this.reloadSession();
      }),
    );
    await this.reloadSession();
  }

  private loadSettings(): Settings {
    const config = vscode.workspace.getConfiguration("wsync");
    const { settings, problems } = readSettings((key) => config.get(key), hostname());
    for (const problem of problems) this.log.warn(`setting wsync.${problem.key}: ${problem.message}`);
    return settings;
  }

  private async onSettingsChanged(): Promise<void> {
    const before = this.settings;
    this.settings = this.loadSettings();
    if (before.serverUrl !== this.settings.serverUrl || needsRestart(before, this.settings)) {
      await this.reloadSession();
    } else {
      this.render();
    }
  }

  private async reloadSession(): Promise<void> {
    this.session = await this.sessions.get(this.settings.serverUrl);
    await vscode.commands.executeCommand("setContext", "wsync.signedIn", this.session !== undefined);
    this.render();
  }

  private snapshot(): StatusSnapshot {
    return {
      signedIn: this.session !== undefined,
      account: this.session?.email,
      paused: this.settings.paused,
      online: true,
      transfer: null,
      pendingFiles: 0,
      conflicts: 0,
    };
  }

  private render(): void {
    void vscode.commands.executeCommand("setContext", "wsync.paused", this.settings.paused);
    this.statusBar.update(this.snapshot());
  }

  private registerCommands(): void {
    const deps = { sessions: this.sessions, settings: () => this.settings, log: this.log };
    const register = (id: string, run: (...args: unknown[]) => unknown) =>
      this.disposables.push(vscode.commands.registerCommand(id, run));
    register("wsync.signIn", () => signIn(deps));
    register("wsync.createAccount", () => createAccount(deps));
    register("wsync.signOut", async () => {
      if (!this.session) return;
      await signOut(deps, this.session);
    });
    register("wsync.pause", () => this.setPaused(true));
    register("wsync.resume", () => this.setPaused(false));
    register("wsync.showLog", () => (this.log as vscode.LogOutputChannel).show?.());
    register("wsync.showStatus", () => this.showStatus());
  }

  private async setPaused(paused: boolean): Promise<void> {
    // User settings, not the workspace's: .vscode/settings.json is synced to the other devices.
    await vscode.workspace
      .getConfiguration("wsync")
      .update("paused", paused, vscode.ConfigurationTarget.Global);
  }

  private async showStatus(): Promise<void> {
    const lines = statusDetails(this.snapshot(), new Date());
    const actions = this.session
      ? [this.settings.paused ? "Resume" : "Pause", "Sync Now", "Show Log"]
      : ["Sign In", "Create Account"];
    const choice = await vscode.window.showInformationMessage(
      lines[0] ?? "Workspace Sync",
      {
        modal: true,
        detail: lines.slice(1).join("\n"),
      },
      ...actions,
    );
    const command: Record<string, string> = {
      Resume: "wsync.resume",
      Pause: "wsync.pause",
      "Sync Now": "wsync.syncNow",
      "Show Log": "wsync.showLog",
      "Sign In": "wsync.signIn",
      "Create Account": "wsync.createAccount",
    };
    if (choice && command[choice]) await vscode.commands.executeCommand(command[choice]);
  }

  async stop(): Promise<void> {}

  dispose(): void {
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }
}
