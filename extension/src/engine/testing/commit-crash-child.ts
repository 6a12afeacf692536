/**
 * A device in its own process that dies at a commit (client-faults test): at the first create or
 * commit request it prints a line and hangs, before sending it ("before") or after the server
 * answered it ("after"), until the parent kills it with SIGKILL. Configured by one JSON argument.
 */
import { createSyncEngine, type SyncEngineOptions } from "../engine.ts";

const options = JSON.parse(process.argv[2] as string) as SyncEngineOptions & { moment: "before" | "after" };
const hang = () => new Promise<never>(() => {});
const engine = createSyncEngine({
  ...options,
  fetch: async (input, init) => {
    const { pathname } = new URL(input);
    const isCommit = init?.method === "POST" && (/\/commit$/.test(pathname) || pathname === "/api/v1/files");
    if (!isCommit) return fetch(input, init);
    if (options.moment === "before") {
      process.stdout.write("COMMIT\n");
      return hang();
    }
    const response = await fetch(input, init);
    await response.clone().arrayBuffer();
    process.stdout.write("COMMIT\n");
    return hang();
  },
});
await engine.start();
await engine.syncNow();
process.stdout.write("DONE\n");
await engine.stop();
