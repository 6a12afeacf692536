import * as vscode from "vscode";
import { presentStatus, type StatusSnapshot } from "./status-model.ts";

/** The status bar item: one glance at sync; a click shows the details ("Show Sync Status"). */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    "wsync.status",
    vscode.StatusBarAlignment.Left,
    10,
  );
  // The tooltip says "last synced 2 minutes ago": keep it true while nothing else changes.
  private readonly timer = setInterval(() => this.render(), 30_000);
  private snapshot: StatusSnapshot | undefined;

  constructor() {
    this.item.name = "Workspace Sync";
    this.item.command = "wsync.showStatus";
  }

  update(snapshot: StatusSnapshot): void {
    this.snapshot = snapshot;
    this.render();
  }

  private render(): void {
    if (!this.snapshot) return;
    const shown = presentStatus(this.snapshot, new Date());
    this.item.text = shown.text;
    this.item.tooltip = shown.tooltip;
    this.item.command = shown.kind === "signedOut" ? "wsync.signIn" : "wsync.showStatus";
    this.item.backgroundColor = shown.warning
      ? new vscode.ThemeColor("statusBarItem.warningBackground")
      : undefined;
    this.item.accessibilityInformation = { label: `Workspace Sync: ${shown.tooltip.split("\n").join(". ")}` };
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    this.item.dispose();
  }
}
