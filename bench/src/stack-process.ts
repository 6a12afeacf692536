/**
 * A benchmark stack in a process of its own: `tsx src/stack-process.ts local|real`. Prints one JSON
 * line (apiUrl, notifierUrl, s3, describe) once it serves, and stops when stdin closes (or on SIGTERM,
 * though embedded PostgreSQL's signal handlers may then end the process first).
 * The devices under test then do not share an event loop with the servers, as in real use.
 */
import { type StackKind, startBenchStack } from "./stacks.ts";

const kind = process.argv[2] as StackKind;
if (kind !== "local" && kind !== "real") {
  process.stderr.write("usage: stack-process.ts local|real\n");
  process.exit(2);
}
// One retry: under heavy load the notifier's start on Kafka was seen to fail once with
// UNKNOWN_TOPIC_OR_PARTITION for the topic it had just created (reported; not the benchmark's to fix).
const stack = await startBenchStack(kind).catch((error) => {
  process.stderr.write(`[bench] the ${kind} stack failed to start, trying once more: ${error}\n`);
  return startBenchStack(kind);
});
let closing: Promise<void> | undefined;
const close = () => {
  closing ??= stack.close().finally(() => process.exit(0));
  return closing;
};
process.once("SIGTERM", close);
process.stdin.on("end", close);
process.stdin.resume();
process.stdout.write(
  `${JSON.stringify({ apiUrl: stack.apiUrl, notifierUrl: stack.notifierUrl, s3: stack.s3, describe: stack.describe })}\n`,
);
