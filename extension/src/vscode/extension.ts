import type * as vscode from "vscode";
import { WsyncApp } from "./app.ts";
import { createLog } from "./log.ts";

let app: WsyncApp | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const { log, channel } = createLog();
  context.subscriptions.push(channel);
  app = new WsyncApp(context, log);
  context.subscriptions.push(app);
  await app.start();
}

export async function deactivate(): Promise<void> {
  // Stopping flushes the engine's state, so the next start resumes rather than rescans.
  await app?.stop();
  app = undefined;
}
