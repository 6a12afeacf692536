import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { type CodeServer, startCodeServer } from "./code-server.ts";
import { launchBrowser, Workbench } from "./workbench.ts";

describe("the extension in a real VS Code, signed out", () => {
  let folder: string;
  let server: CodeServer;
  let browser: Browser;
  let vscode: Workbench;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "wsync-e2e-folder-"));
    await writeFile(join(folder, "hello.txt"), "hello\n");
    // Nothing listens on the server URL: signed out, the extension must not need the server at all.
    server = await startCodeServer({
      folder,
      vsix: inject("vsix"),
      settings: { "wsync.serverUrl": "http://127.0.0.1:9" },
    });
    browser = await launchBrowser();
    vscode = await Workbench.open(browser, server.url, "activation");
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
    await rm(folder, { recursive: true, force: true });
  });

  it("activates at startup and asks to sign in from the status bar", async () => {
    expect(await vscode.waitForStatus(/Sign in to sync/)).toContain("Sign in to sync");
    const shot = await vscode.screenshot("01-signed-out-status-bar");
    expect(shot.width).toBe(1400);
    expect(shot.distinctColors).toBeGreaterThan(50);
    expect(shot.dominantShare).toBeLessThan(0.9);
  });

  it("offers Sign In and Create Account in the command palette, not Sign Out", async () => {
    await vscode.page.keyboard.press("F1");
    const widget = vscode.page.locator(".quick-input-widget");
    await widget.locator("input").fill(">Workspace Sync:");
    const rows = widget.locator(".quick-input-list .monaco-list-row");
    await rows.filter({ hasText: "Workspace Sync: Sign In" }).first().waitFor();
    const titles = await rows.allTextContents();
    expect(titles.join("\n")).toContain("Workspace Sync: Create Account");
    expect(titles.join("\n")).not.toContain("Sign Out");
    await vscode.screenshot("02-command-palette");
    await vscode.page.keyboard.press("Escape");
  });

  it("reports an unreachable server when signing in, naming the URL", async () => {
    await vscode.runCommand("Workspace Sync: Sign In");
    await vscode.answerInput("ada@example.com", /Email address/);
    await vscode.answerInput("correct horse battery", /Password for ada@example.com/);
    const toast = await vscode.waitForNotification(
      /Cannot reach the wsync server at http:\/\/127\.0\.0\.1:9/,
    );
    expect(await toast.textContent()).toContain("wsync.serverUrl");
    await vscode.screenshot("03-sign-in-unreachable");
  });
});
