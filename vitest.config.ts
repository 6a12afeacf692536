import { defineConfig } from "vitest/config";

// One runner for the whole repo: each workspace package is a vitest project, so `npm test`
// runs everything and `npx vitest --project edge-api` runs one package.
export default defineConfig({
  test: {
    projects: ["shared-protocol", "test-fixtures", "scripts", "edge-api", "notifier", "extension"].map(
      (name) => ({
        extends: true,
        test: {
          name,
          root: `./${name}`,
          include: ["src/**/*.test.ts"],
          exclude: ["**/node_modules/**", "src/**/*.stack.test.ts", "src/**/*.e2e.test.ts"],
        },
      }),
    ),
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
