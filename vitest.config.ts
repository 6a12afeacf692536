import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const packages = [
  "shared-protocol",
  "test-fixtures",
  "scripts",
  "edge-api",
  "notifier",
  "extension",
  "bench",
];
const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// One runner for the whole repo: each workspace package is a vitest project, so `npm test` runs
// everything and `npx vitest run --project edge-api` runs one package. Stack tests (*.stack.test.ts)
// need the real services and run from the stack suite; end-to-end tests (*.e2e.test.ts) from test:e2e.
export default defineConfig({
  test: {
    globalSetup: [fromRoot("./test-fixtures/src/global-setup.ts")],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    passWithNoTests: true,
    projects: packages.map((name) => ({
      extends: true,
      test: {
        name,
        root: fromRoot(`./${name}`),
        include: ["src/**/*.test.ts"],
        exclude: ["**/node_modules/**", "src/**/*.stack.test.ts", "src/**/*.e2e.test.ts"],
      },
    })),
  },
});
