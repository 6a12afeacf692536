// Manual debugging aid (not a test): starts code-server with the built .vsix on a folder, opens it in
// Chromium, runs a few steps and prints what it sees. `npx tsx extension/src/e2e/debug-session.ts VSIX`.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCodeServer } from "./code-server.ts";
import { launchBrowser, Workbench } from "./workbench.ts";

const vsix = process.argv[2];
if (!vsix) throw new Error("usage: debug-session.ts VSIX");
const folder = await mkdtemp(join(tmpdir(), "wsync-debug-"));
await writeFile(join(folder, "hello.txt"), "hello\n");
const server = await startCodeServer({ folder, vsix, settings: { "wsync.serverUrl": "http://127.0.0.1:9" } });
const browser = await launchBrowser();
try {
  const vscode = await Workbench.open(browser, server.url, "debug");
  await vscode.page.locator(".statusbar-item", { hasText: "Sign in to sync" }).waitFor({ timeout: 60_000 });
  const html = await vscode.page
    .locator(".statusbar-item", { hasText: "Sign in to sync" })
    .evaluate((node) => node.outerHTML);
  console.log(html);
  await vscode.runCommand("Workspace Sync: Sign In");
  await vscode.answerInput("ada@example.com", /Email address/);
  await vscode.page.waitForTimeout(1000);
  await vscode.page.screenshot({ path: "/tmp/wsync-dbg/after-email.png" });
  await vscode.answerInput("correct horse battery", /Password/);
  await vscode.page.waitForTimeout(5000);
  await vscode.page.screenshot({ path: "/tmp/wsync-dbg/after-password.png" });
} finally {
  await browser.close();
  console.log(server.output().slice(-3000));
  await server.stop();
}
