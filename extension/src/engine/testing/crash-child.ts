/**
 * A device in its own process, for crash tests: the parent kills it with SIGKILL mid-transfer. It
 * reports each finished chunk PUT or GET on stdout and slows the later ones, so the kill lands in the
 * middle of a transfer. Configured by one JSON argument.
 */
import { createSyncEngine, type SyncEngineOptions } from "../engine.ts";

const options = JSON.parse(process.argv[2] as string) as SyncEngineOptions & { slowAfter: number };
let transfers = 0;
const engine = createSyncEngine({
  ...options,
  fetch: async (input, init) => {
    const isChunk = !input.includes("/api/v1/");
    if (isChunk && transfers >= options.slowAfter) await new Promise((resolve) => setTimeout(resolve, 400));
    const response = await fetch(input, init);
    if (isChunk) {
      const body = await response.arrayBuffer();
      transfers++;
      process.stdout.write(`${init.method ?? "GET"} ${transfers}\n`);
      return new Response(body, { status: response.status, headers: response.headers });
    }
    return response;
  },
});
await engine.start();
await engine.syncNow();
process.stdout.write("DONE\n");
await engine.stop();
