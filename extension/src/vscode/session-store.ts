import * as vscode from "vscode";
import { parseStoredSession, StoredSession, sessionSecretKey } from "./session-model.ts";

/** The signed-in device for each server, in VS Code's SecretStorage (the OS keychain where there is one). */
export class SessionStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with the server URL whose session changed, here or in another window. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscription = secrets.onDidChange((event) => {
      const prefix = sessionSecretKey("");
      if (event.key.startsWith(prefix)) this.changed.fire(event.key.slice(prefix.length));
    });
  }

  async get(serverUrl: string): Promise<StoredSession | undefined> {
    const session = parseStoredSession(await this.secrets.get(sessionSecretKey(serverUrl)));
    return session?.serverUrl === serverUrl ? session : undefined;
  }

  async set(session: StoredSession): Promise<void> {
    await this.secrets.store(
      sessionSecretKey(session.serverUrl),
      JSON.stringify(StoredSession.parse(session)),
    );
  }

  async delete(serverUrl: string): Promise<void> {
    await this.secrets.delete(sessionSecretKey(serverUrl));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
