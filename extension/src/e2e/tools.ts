import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Where things are: the extension folder, and the tools e2e/install.sh cached (Node 24, code-server). */
export const extensionDir = fileURLToPath(new URL("../../", import.meta.url));
export const repoDir = fileURLToPath(new URL("../../../", import.meta.url));
export const CHROMIUM = process.env.WSYNC_CHROMIUM ?? "/usr/bin/chromium";

export interface Tools {
  node24Bin: string;
  codeServer: string;
}

let tools: Tools | undefined;

/**
 * Runs e2e/install.sh (a check when everything is cached, an install on a fresh machine) and reads the
 * paths it prints.
 */
export function e2eTools(): Tools {
  if (tools) return tools;
  const output = execFileSync("bash", [`${extensionDir}e2e/install.sh`, "all"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const vars = Object.fromEntries(
    output
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const node24Bin = vars.WSYNC_NODE24_BIN;
  const codeServer = vars.WSYNC_CODE_SERVER;
  if (!node24Bin || !codeServer || !existsSync(codeServer)) {
    throw new Error(`e2e/install.sh did not provide code-server:\n${output}`);
  }
  tools = { node24Bin, codeServer };
  return tools;
}
