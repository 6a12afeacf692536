import * as vscode from "vscode";

/** What the rest of the extension logs through; the output channel "Workspace Sync" (Show Log). */
export interface Log {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error): void;
}

export function createLog(): { log: Log; channel: vscode.LogOutputChannel } {
  const channel = vscode.window.createOutputChannel("Workspace Sync", { log: true });
  return { log: channel, channel };
}
