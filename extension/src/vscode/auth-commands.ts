import { ApiClient, isApiError, NetworkError } from "@wsync/shared-protocol";
import * as vscode from "vscode";
import type { Log } from "./log.ts";
import type { StoredSession } from "./session-model.ts";
import { checkEmail, checkNewPassword, describeAuthError } from "./session-model.ts";
import type { SessionStore } from "./session-store.ts";
import type { Settings } from "./settings.ts";

export interface AuthDeps {
  sessions: SessionStore;
  settings: () => Settings;
  log: Log;
}

/** "Sign In": email and password, then a new device for this machine (each login is one). */
export async function signIn(deps: AuthDeps): Promise<StoredSession | undefined> {
  const { serverUrl, deviceName } = deps.settings();
  const email = await askEmail("Sign in to Workspace Sync");
  if (email === undefined) return undefined;
  const password = await vscode.window.showInputBox({
    title: "Sign in to Workspace Sync",
    prompt: `Password for ${email}`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value === "" ? "Enter your password" : undefined),
  });
  if (password === undefined) return undefined;
  return authenticate(deps, "Signing in", (client) => client.login({ email, password, deviceName }), {
    email,
    deviceName,
    serverUrl,
  });
}

/** "Create Account": email, a password typed twice, then the first device of the new account. */
export async function createAccount(deps: AuthDeps): Promise<StoredSession | undefined> {
  const { serverUrl, deviceName } = deps.settings();
  const title = "Create a Workspace Sync account";
  const email = await askEmail(title);
  if (email === undefined) return undefined;
  const password = await vscode.window.showInputBox({
    title,
    prompt: "Choose a password (at least 8 characters)",
    password: true,
    ignoreFocusOut: true,
    validateInput: checkNewPassword,
  });
  if (password === undefined) return undefined;
  const confirmation = await vscode.window.showInputBox({
    title,
    prompt: "Type the password again",
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value === password ? undefined : "The passwords differ"),
  });
  if (confirmation === undefined) return undefined;
  return authenticate(
    deps,
    "Creating your account",
    (client) => client.register({ email, password, deviceName }),
    {
      email,
      deviceName,
      serverUrl,
    },
  );
}

async function askEmail(title: string): Promise<string | undefined> {
  const email = await vscode.window.showInputBox({
    title,
    prompt: "Email address",
    placeHolder: "you@example.com",
    ignoreFocusOut: true,
    validateInput: checkEmail,
  });
  return email?.trim();
}

async function authenticate(
  deps: AuthDeps,
  title: string,
  call: (client: ApiClient) => Promise<{ userId: string; deviceId: string; token: string }>,
  who: { email: string; deviceName: string; serverUrl: string },
): Promise<StoredSession | undefined> {
  const client = new ApiClient({ baseUrl: who.serverUrl });
  try {
    const answer = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${title}…` },
      () => call(client),
    );
    const session: StoredSession = { ...answer, ...who };
    await deps.sessions.set(session);
    deps.log.info(
      `signed in as ${who.email} on ${who.serverUrl}; this device is "${who.deviceName}" (${answer.deviceId})`,
    );
    vscode.window.showInformationMessage(`Workspace Sync: signed in as ${who.email}.`);
    return session;
  } catch (error) {
    const message = describeAuthError(error, who.serverUrl);
    deps.log.warn(`${title} failed: ${message}`);
    const retry = "Try Again";
    const other = isApiError(error, "email_taken") ? "Sign In" : undefined;
    const choice = await vscode.window.showErrorMessage(
      `Workspace Sync: ${message}`,
      ...(other ? [other] : []),
      retry,
    );
    if (choice === other) return signIn(deps);
    if (choice === retry) return title.startsWith("Creating") ? createAccount(deps) : signIn(deps);
    return undefined;
  }
}

/**
 * "Sign Out" revokes this device on the server (its token stops working everywhere at once) and forgets
 * the token. Offline, the user may still sign out locally; the device then stays listed until revoked
 * from another device.
 */
export async function signOut(deps: AuthDeps, session: StoredSession): Promise<boolean> {
  const confirm = "Sign Out";
  const choice = await vscode.window.showWarningMessage(
    `Sign out of Workspace Sync as ${session.email}? This device ("${session.deviceName}") is revoked and stops syncing. Your files stay on disk.`,
    { modal: true },
    confirm,
  );
  if (choice !== confirm) return false;
  const client = new ApiClient({ baseUrl: session.serverUrl, token: session.token });
  try {
    await client.revokeDevice(session.deviceId);
    deps.log.info(`revoked device ${session.deviceId} and signed out`);
  } catch (error) {
    // Already revoked (from another device): the token is dead anyway, so signing out is done.
    if (!isApiError(error, "unauthorized")) {
      const message = describeAuthError(error, session.serverUrl);
      deps.log.warn(`revoking device ${session.deviceId} failed: ${message}`);
      const anyway = "Sign Out on This Machine Only";
      const detail =
        error instanceof NetworkError
          ? "The server cannot be reached to revoke this device."
          : "The server did not revoke this device.";
      const answer = await vscode.window.showWarningMessage(
        `${detail} ${message}`,
        {
          modal: true,
          detail: "Signing out here forgets the token; revoke the device later from another one.",
        },
        anyway,
      );
      if (answer !== anyway) return false;
    }
  }
  await deps.sessions.delete(session.serverUrl);
  vscode.window.showInformationMessage("Workspace Sync: signed out.");
  return true;
}
