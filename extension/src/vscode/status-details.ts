import * as vscode from "vscode";
import { type StatusSnapshot, statusDetails } from "./status-model.ts";

/** "Show Sync Status" (a click on the status bar): the details, and what to do next. */
export async function showStatusDetails(snapshot: StatusSnapshot): Promise<void> {
  const lines = statusDetails(snapshot, new Date());
  const actions: Array<[string, string]> = snapshot.signedIn
    ? [
        snapshot.paused ? ["Resume", "wsync.resume"] : ["Pause", "wsync.pause"],
        ["Sync Now", "wsync.syncNow"],
        ["Show Log", "wsync.showLog"],
      ]
    : [
        ["Sign In", "wsync.signIn"],
        ["Create Account", "wsync.createAccount"],
      ];
  if (snapshot.conflicts > 0) actions.unshift(["Show Conflicts", "wsync.conflicts.focus"]);
  const choice = await vscode.window.showInformationMessage(
    lines[0] ?? "Workspace Sync",
    { modal: true, detail: lines.slice(1).join("\n") },
    ...actions.map(([title]) => title),
  );
  const command = actions.find(([title]) => title === choice)?.[1];
  if (command) await vscode.commands.executeCommand(command);
}
