import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiClient } from "@wsync/shared-protocol";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type CodeServer, startCodeServer } from "./code-server.ts";
import { signInFromPalette } from "./flows.ts";
import { startE2eStack } from "./stack.ts";
import { launchBrowser, Workbench } from "./workbench.ts";

const email = "ada@example.com";
const password = "correct horse battery";

describe("accounts from the command palette, against the local stack", () => {
  let stack: Awaited<ReturnType<typeof startE2eStack>>;
  let folder: string;
  let server: CodeServer;
  let browser: Browser;
  let vscode: Workbench;
  let stackStopped = false;

  beforeAll(async () => {
    stack = await startE2eStack();
    folder = await mkdtemp(join(tmpdir(), "wsync-e2e-account-"));
    await writeFile(join(folder, "readme.md"), "# hello\n");
    server = await startCodeServer({
      folder,
      vsix: inject("vsix"),
      settings: {
        "wsync.serverUrl": stack.apiUrl,
        "wsync.notifierUrl": stack.notifierUrl,
        "wsync.deviceName": "e2e-vscode",
      },
    });
    browser = await launchBrowser();
    vscode = await Workbench.open(browser, server.url, "account");
    await vscode.waitForStatus(/Sign in to sync/);
  });

  // A failed step leaves a picture of the window as it was.
  afterEach(async ({ task }) => {
    if (task.result?.state === "fail")
      await vscode?.screenshot(`FAILED-${task.name.slice(0, 60)}`).catch(() => {});
  });

  afterAll(async () => {
    await vscode?.close();
    await browser?.close();
    await server?.stop();
    if (!stackStopped) await stack?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("creates an account, checking the password twice, and registers this VS Code as a device", async () => {
    await vscode.runCommand("Workspace Sync: Create Account");
    await vscode.answerInput(email, /Email address/);
    await vscode.answerInput("short", /Choose a password/);
    // Too short: the box stays open and says why.
    await vscode.page
      .locator(".quick-input-widget")
      .filter({ hasText: /at least 8 characters/ })
      .waitFor();
    await vscode.screenshot("01-password-too-short");
    await vscode.answerInput(password);
    await vscode.answerInput(password, /Type the password again/);
    await vscode.waitForNotification(/signed in as ada@example\.com/);
    const status = await vscode.waitForStatus(/Synced|Syncing/);
    expect(status).not.toContain("Sign in");
    await vscode.screenshot("02-signed-in");

    const other = await new ApiClient({ baseUrl: stack.apiUrl }).login({
      email,
      password,
      deviceName: "e2e-test",
    });
    const { devices } = await new ApiClient({ baseUrl: stack.apiUrl, token: other.token }).listDevices();
    expect(devices.map((device) => device.name).sort()).toEqual(["e2e-test", "e2e-vscode"]);
  });

  it("keeps the session across a reload of the window (SecretStorage)", async () => {
    await vscode.page.reload();
    await vscode.page.locator(".monaco-workbench").waitFor();
    const status = await vscode.waitForStatus(/Synced|Syncing|Offline/);
    expect(status).not.toContain("Sign in");
  });

  it("signs out by revoking this device on the server", async () => {
    const test = await new ApiClient({ baseUrl: stack.apiUrl }).login({
      email,
      password,
      deviceName: "e2e-check",
    });
    const api = new ApiClient({ baseUrl: stack.apiUrl, token: test.token });
    const before = (await api.listDevices()).devices.find((device) => device.name === "e2e-vscode");
    expect(before).toBeDefined();

    await vscode.runCommand("Workspace Sync: Sign Out (Revoke This Device)");
    await vscode.screenshot("03-sign-out-confirm");
    await vscode.clickNotificationButton(/Sign out of Workspace Sync as ada@example\.com/, "Sign Out");
    await vscode.waitForStatus(/Sign in to sync/);
    await vscode.screenshot("04-signed-out");

    const after = (await api.listDevices()).devices.map((device) => device.name);
    expect(after).not.toContain("e2e-vscode");
  });

  it("signs in again as a new device; a wrong password is refused without signing in", async () => {
    await vscode.runCommand("Workspace Sync: Sign In");
    await vscode.answerInput(email, /Email address/);
    await vscode.answerInput("not the password", /Password for/);
    await vscode.waitForNotification(/Wrong email or password/);
    await vscode.screenshot("05-wrong-password");
    expect(await vscode.statusItem().textContent()).toContain("Sign in");

    await vscode.runCommand("Workspace Sync: Sign In");
    const box = vscode.page.locator(".quick-input-widget");
    await box.filter({ hasText: /Email address/ }).waitFor();
    await box.locator("input").fill(email);
    await vscode.screenshot("06-sign-in-email");
    await box.locator("input").press("Enter");
    await vscode.answerInput(password, /Password for/);
    await vscode.waitForStatus(/Synced|Syncing/);
    const login = await new ApiClient({ baseUrl: stack.apiUrl }).login({
      email,
      password,
      deviceName: "e2e-check2",
    });
    const names = (
      await new ApiClient({ baseUrl: stack.apiUrl, token: login.token }).listDevices()
    ).devices.map((device) => device.name);
    expect(names).toContain("e2e-vscode");
  });

  it("signs out by itself when this device is revoked from another one, and says so", async () => {
    const other = await new ApiClient({ baseUrl: stack.apiUrl }).login({
      email,
      password,
      deviceName: "e2e-admin",
    });
    const api = new ApiClient({ baseUrl: stack.apiUrl, token: other.token });
    const device = (await api.listDevices()).devices.find((entry) => entry.name === "e2e-vscode");
    if (!device) throw new Error("the VS Code device is not listed");
    await api.revokeDevice(device.deviceId);
    await vscode.waitForNotification(/this device was signed out \(its access was revoked/);
    await vscode.waitForStatus(/Sign in to sync/);
    await vscode.screenshot("07-revoked-elsewhere");

    await signInFromPalette(vscode, email, password);
    await vscode.waitForStatus(/Synced/);
  });

  it("shows Offline when the server is gone, and the details on a click", async () => {
    await vscode.waitForStatus(/Synced/);
    stackStopped = true;
    await stack.stop();
    await vscode.runCommand("Workspace Sync: Sync Now");
    await vscode.waitForStatus(/Offline/);
    await vscode.statusItem().click();
    const dialog = vscode.page.locator(".monaco-dialog-box");
    await dialog.filter({ hasText: "Offline: the server cannot be reached" }).waitFor();
    await vscode.screenshot("08-offline-details");
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });
});
