import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The end-to-end suite: a real VS Code (code-server) in headless Chromium against the local stack.
// Run through `npm run test:e2e` (e2e/run-e2e.sh), which installs the tools and builds the .vsix first.
export default defineConfig({
  test: {
    name: "extension-e2e",
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["src/**/*.e2e.test.ts"],
    // The run's PostgreSQL and S3 store (test-fixtures), then the tools and the .vsix.
    globalSetup: [
      fileURLToPath(new URL("../test-fixtures/src/global-setup.ts", import.meta.url)),
      fileURLToPath(new URL("./src/e2e/global-setup.ts", import.meta.url)),
    ],
    // One VS Code at a time: each is a server, an extension host and a browser on 2 cores.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // A failing step leaves its screenshots; a second run would only overwrite them.
    retry: 0,
  },
});
