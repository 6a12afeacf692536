import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { e2eTools, extensionDir } from "./tools.ts";
import { artifactsDir } from "./workbench.ts";

/**
 * Once per e2e run: the tools (installed when missing), a fresh .vsix of the current source, and an
 * empty artifacts folder. The tests get the .vsix path with `inject("vsix")`; WSYNC_E2E_VSIX names a
 * ready one instead.
 */
export default function setup(project: TestProject): void {
  e2eTools();
  const vsix =
    process.env.WSYNC_E2E_VSIX ??
    execFileSync("bash", [`${extensionDir}e2e/package-vsix.sh`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .pop();
  if (!vsix) throw new Error("e2e/package-vsix.sh printed no .vsix path");
  project.provide("vsix", vsix);
  rmSync(artifactsDir, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    vsix: string;
  }
}
