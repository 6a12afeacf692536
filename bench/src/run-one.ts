/**
 * Runs one benchmark in this process and writes its result as JSON: `tsx src/run-one.ts ID OUT.json`.
 * The suite runs each benchmark in a process of its own, so memory and CPU figures are not mixed up
 * and one failing benchmark does not stop the others.
 */
import { writeFile } from "node:fs/promises";
import { config } from "./config.ts";
import { benches } from "./registry.ts";

const [id, out] = process.argv.slice(2);
const bench = benches.find((b) => b.id === id);
if (!bench || !out) {
  process.stderr.write(`usage: run-one.ts <${benches.map((b) => b.id).join("|")}> OUT.json\n`);
  process.exit(2);
}
const started = performance.now();
const result = await (await bench.load()).run(config);
result.durationSeconds = Math.round((performance.now() - started) / 100) / 10;
await writeFile(out, JSON.stringify(result, null, 2));
process.exit(0);
