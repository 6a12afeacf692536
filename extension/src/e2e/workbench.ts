import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { checkScreenshot, type ScreenshotCheck } from "./png.ts";
import { CHROMIUM, extensionDir } from "./tools.ts";

/** Screenshots land here (test-results/ is what CI keeps as artifacts). */
export const artifactsDir = join(extensionDir, "..", "test-results", "e2e");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** One VS Code window in the browser, with helpers that act as a user does: F1, typing, clicking. */
export class Workbench {
  private constructor(
    readonly page: Page,
    private readonly name: string,
  ) {}

  static async open(browser: Browser, url: string, name: string): Promise<Workbench> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(url);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    return new Workbench(page, name);
  }

  /** The status bar item of the extension: its appearance is the sign that it activated. */
  statusItem(): Locator {
    // VS Code prefixes the item's id with the extension's id (wsync.wsync).
    return this.page.locator('.statusbar-item[id="wsync.wsync.wsync.status"]');
  }

  async waitForStatus(text: RegExp, timeout = 60_000): Promise<string> {
    const item = this.statusItem();
    await item.filter({ hasText: text }).waitFor({ timeout });
    return ((await item.textContent()) ?? "").trim();
  }

  /** Runs a command from F1 by its palette title, waiting for its row before pressing Enter. */
  async runCommand(title: string): Promise<void> {
    const widget = this.page.locator(".quick-input-widget");
    await this.page.keyboard.press("Escape");
    await this.page.keyboard.press("F1");
    await widget.waitFor({ state: "visible" });
    const input = widget.locator("input");
    await input.fill(`>${title}`);
    const row = widget.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  }

  /** Types into the input box a command opened (showInputBox), then accepts it. */
  async answerInput(value: string, expectPrompt?: RegExp): Promise<void> {
    const widget = this.page.locator(".quick-input-widget");
    await widget.waitFor({ state: "visible" });
    if (expectPrompt) await widget.filter({ hasText: expectPrompt }).waitFor();
    const input = widget.locator("input").first();
    await input.fill(value);
    await input.press("Enter");
  }

  /** Clicks a button of a notification (or a modal dialog) that shows `message`. */
  async clickNotificationButton(message: RegExp, button: string, timeout = 60_000): Promise<void> {
    const toast = this.page
      .locator(".notification-toast, .monaco-dialog-box")
      .filter({ hasText: message })
      .first();
    await toast.waitFor({ timeout });
    await toast.getByRole("button", { name: button, exact: true }).click();
  }

  async waitForNotification(message: RegExp, timeout = 60_000): Promise<Locator> {
    const toast = this.page.locator(".notification-toast").filter({ hasText: message }).first();
    await toast.waitFor({ timeout });
    return toast;
  }

  /** Opens a file by its workspace-relative path through Quick Open. */
  async openFile(path: string): Promise<void> {
    await this.page.keyboard.press("Escape");
    await this.page.keyboard.press("Control+P");
    const widget = this.page.locator(".quick-input-widget");
    await widget.waitFor({ state: "visible" });
    await widget.locator("input").fill(path);
    const name = path.split("/").pop() ?? path;
    await widget.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor();
    await this.page.keyboard.press("Enter");
    await this.activeTab(name).waitFor();
  }

  activeTab(name: string): Locator {
    return this.page.locator(".tabs-container .tab.active", { hasText: name });
  }

  /** The text the active editor shows (what the user sees, line by line). */
  async editorText(
    editor: Locator = this.page.locator(".editor-instance .monaco-editor").first(),
  ): Promise<string> {
    const lines = editor.locator(".view-lines .view-line");
    const texts = await lines.evaluateAll((nodes) =>
      nodes
        .map((node) => ({
          top: Number.parseFloat((node as HTMLElement).style.top || "0"),
          text: node.textContent ?? "",
        }))
        .sort((a, b) => a.top - b.top)
        .map((line) => line.text.replace(/\u00a0/g, " ")),
    );
    return texts.join("\n");
  }

  async closeAllEditors(): Promise<void> {
    await this.runCommand("View: Close All Editors");
    await this.page.locator(".tabs-container .tab").first().waitFor({ state: "detached" });
  }

  /** Types at the end of the active editor's text. */
  async typeAtEnd(text: string): Promise<void> {
    const editor = this.page.locator(".editor-instance .monaco-editor").first();
    await editor.locator(".view-lines").click();
    await this.page.keyboard.press("Control+End");
    await this.page.keyboard.type(text);
  }

  async save(): Promise<void> {
    await this.page.keyboard.press("Control+S");
    await this.page.locator(".tabs-container .tab.active.dirty").waitFor({ state: "detached" });
  }

  /** A view's pane in the side bar, by its title ("File History", "Conflicts"). */
  pane(title: string): Locator {
    return this.page.locator(".pane").filter({ has: this.page.locator(".pane-header", { hasText: title }) });
  }

  /** A row of a tree view whose text matches. */
  treeRow(pane: Locator, text: string | RegExp): Locator {
    return pane.locator(".monaco-list-row", { hasText: text }).first();
  }

  /** Runs one of a tree row's inline actions (the icons shown on hover), by its title. */
  async rowAction(row: Locator, title: string): Promise<void> {
    await row.hover();
    await row.locator(`.action-label[aria-label="${title}"]`).click();
  }

  /** The two sides of the diff editor on screen: [left (original), right (modified)]. */
  async diffTexts(): Promise<[string, string]> {
    const diff = this.page.locator(".monaco-diff-editor").first();
    await diff.waitFor();
    const left = await this.editorText(diff.locator(".editor.original .monaco-editor").first());
    const right = await this.editorText(diff.locator(".editor.modified .monaco-editor").first());
    return [left, right];
  }

  /** Runs a command from a file's context menu in the Explorer. */
  async explorerContextCommand(fileName: string, title: string): Promise<void> {
    await this.runCommand("View: Show Explorer");
    const row = this.page.locator(".explorer-folders-view .monaco-list-row", { hasText: fileName }).first();
    await this.contextMenuCommand(row, title);
  }

  /**
   * Runs `title` from a row's context menu. A tree that re-renders (a refresh after a sync) can swallow
   * the right-click, so the menu is opened again until the item shows.
   */
  async contextMenuCommand(row: Locator, title: string): Promise<void> {
    const item = this.page.locator(".context-view .monaco-menu .action-item", { hasText: title }).first();
    for (let attempt = 1; ; attempt++) {
      await row.click({ button: "right" });
      const shown = await item.waitFor({ timeout: 5_000 }).then(
        () => true,
        () => false,
      );
      if (shown) break;
      if (attempt === 5) throw new Error(`the context menu never showed "${title}"`);
      await this.page.keyboard.press("Escape");
    }
    // VS Code's menus can ignore a click that lands right after they open: focus the item, then Enter.
    await item.hover();
    await item.locator(".action-label").focus();
    await this.page.keyboard.press("Enter");
    await item.waitFor({ state: "detached" });
  }

  /** A screenshot of one part of the window (the status bar, a view) as an artifact. */
  async screenshotOf(step: string, part: Locator): Promise<ScreenshotCheck & { path: string }> {
    await mkdir(artifactsDir, { recursive: true });
    const path = join(artifactsDir, `${this.name}-${step}.png`);
    const bytes = await part.screenshot({ path, animations: "disabled" });
    return { path, ...checkScreenshot(bytes) };
  }

  /** Saves a screenshot as an artifact and checks it shows a rendered workbench, not a blank page. */
  async screenshot(step: string): Promise<ScreenshotCheck & { path: string }> {
    await mkdir(artifactsDir, { recursive: true });
    const path = join(artifactsDir, `${this.name}-${step}.png`);
    // Finished animations: a notification caught sliding in is half transparent.
    const bytes = await this.page.screenshot({ path, animations: "disabled" });
    return { path, ...checkScreenshot(bytes) };
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}
