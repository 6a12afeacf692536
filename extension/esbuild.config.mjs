// Bundles the extension into one CommonJS file, dist/extension.cjs: VS Code loads extensions with
// require(), and one file keeps the .vsix small and free of node_modules (see .vscodeignore).
import { build } from "esbuild";

const production = process.argv.includes("--production");

await build({
  entryPoints: ["src/vscode/extension.ts"],
  outfile: "dist/extension.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  // The extension host's Node: VS Code 1.90 ships Node 20, code-server 4.139 runs on Node 24.
  target: "node20",
  // `vscode` is provided by the extension host. ws's native speedups are optional and it falls back
  // without them. @parcel/watcher (native) is the engine's own watcher for the CLI; the extension feeds
  // the engine from VS Code's watcher instead and never loads it, so it is neither bundled nor shipped.
  external: ["vscode", "bufferutil", "utf-8-validate", "@parcel/watcher"],
  sourcemap: production ? false : "linked",
  minify: production,
  keepNames: true,
  legalComments: "linked",
  logLevel: "warning",
  metafile: false,
});
