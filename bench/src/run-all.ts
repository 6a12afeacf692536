/**
 * The benchmark suite: `npm run bench`. Starts the real services with the project's stack scripts
 * (BENCH_STACK=local skips them: every benchmark then runs on the local stack only), runs each
 * benchmark in a process of its own, prints the results as Markdown tables, and writes them as JSON
 * to bench/results/ (git-ignored).
 *
 *   BENCH_ONLY=chunk-hash,edits   run some benchmarks only (extras such as small-files, scaled-api too)
 *   BENCH_EXTRAS=1                also run the extras (not in a default run: registry.ts)
 *   BENCH_QUICK=1                 small sizes: a smoke run of a few minutes
 *   See src/config.ts for every size and count.
 */
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { config, machine } from "./config.ts";
import { benches } from "./registry.ts";
import { type BenchResult, formatReport } from "./report.ts";
import { ensureRsync, type RealServices, startRealServices } from "./services.ts";

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
const runOne = fileURLToPath(new URL("./run-one.ts", import.meta.url));

function runBench(id: string, env: NodeJS.ProcessEnv): Promise<BenchResult> {
  const out = join(tmpdir(), `wsync-bench-${process.pid}-${id}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", runOne, id, out], { env, stdio: "inherit" });
    const failed = (why: string): BenchResult => ({
      id,
      title: benches.find((b) => b.id === id)?.title ?? id,
      setup: "",
      rows: [],
      problems: [why],
    });
    child.once("error", (error) => resolve(failed(String(error))));
    child.once("exit", async (code, signal) => {
      if (code !== 0) return resolve(failed(`the benchmark process ended with ${signal ?? `code ${code}`}`));
      try {
        resolve(JSON.parse(await readFile(out, "utf8")) as BenchResult);
      } catch (error) {
        resolve(failed(`no result: ${error}`));
      } finally {
        await rm(out, { force: true });
      }
    });
  });
}

async function main() {
  const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
  const extras = process.env.BENCH_EXTRAS === "1";
  const selected = benches.filter((b) => (only ? only.includes(b.id) : !b.extra || extras));
  const stackMode = process.env.BENCH_STACK === "local" ? "local" : "real";
  const started = performance.now();
  const machineBefore = machine();
  log(`machine: ${JSON.stringify(machineBefore)}`);
  if (selected.some((b) => b.id === "edits") && !ensureRsync(log))
    log("rsync is not available: its column stays empty");

  let services: RealServices | undefined;
  const stop = async () => {
    await services?.stop();
    services = undefined;
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void stop().finally(() => process.exit(130)));
  }
  const results: BenchResult[] = [];
  try {
    if (stackMode === "real") {
      log("starting the real services (scripts/stack: PostgreSQL, Versity Gateway, Kafka)");
      services = await startRealServices(log);
      log(`real services: ${JSON.stringify({ ...services.env, S3_SECRET_ACCESS_KEY: "…" })}`);
    }
    for (const bench of selected) {
      log(`== ${bench.title}`);
      const env = {
        ...process.env,
        ...(services?.env ?? {}),
        BENCH_STACKS: stackMode === "real" ? "local,real" : "local",
      };
      const result = await runBench(bench.id, env);
      results.push(result);
      log(
        `${bench.title}: ${result.durationSeconds ?? "?"} s${result.problems?.length ? `, problems: ${result.problems.join("; ")}` : ""}`,
      );
    }
  } finally {
    await stop();
  }
  const report = {
    finishedAt: new Date().toISOString(),
    totalSeconds: Math.round((performance.now() - started) / 1000),
    machine: { ...machineBefore, loadAverageAfter: machine().loadAverage },
    stack: stackMode,
    config,
    results,
  };
  // Printed in the issue's numbering; run in the order of the registry.
  const byNumber = [...results].sort((a, b) => Number.parseInt(a.title, 10) - Number.parseInt(b.title, 10));
  const table = formatReport(byNumber);
  process.stdout.write(`\n${table}\n`);
  await mkdir(resultsDir, { recursive: true });
  const stamp = report.finishedAt.replaceAll(":", "-").replace(/\..*/, "");
  await writeFile(join(resultsDir, `bench-${stamp}.json`), JSON.stringify(report, null, 2));
  await writeFile(join(resultsDir, "latest.json"), JSON.stringify(report, null, 2));
  await writeFile(join(resultsDir, "latest.md"), `${table}\n`);
  log(`total ${report.totalSeconds} s; results in ${join(resultsDir, `bench-${stamp}.json`)}`);
  if (results.some((r) => r.rows.length === 0)) process.exitCode = 1;
}

await main();
