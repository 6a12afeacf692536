import { makeChunk, putChunk } from "@wsync/edge-api/testing/chunks";
import { ApiClient, ApiError, type ChunkHash, isRetryable } from "@wsync/shared-protocol";
import { WsDevice } from "./ws-device.ts";

/** What a run of devices saw: every answer that was not the final one of its operation. */
export interface Turbulence {
  /** Answers a retry absorbed, by kind ("502", "network", "429", ...). */
  absorbed: Record<string, number>;
  /** Operations that failed for good (must stay empty). */
  failed: string[];
  /** version_conflict answers: a device commits only its own files, so each would be spurious. */
  conflicts: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `op` until it succeeds, as a sync client does: network errors, 5xx and 429 are retried with
 * backoff (a change keeps its Idempotency-Key across retries); anything else is final.
 */
export async function withRetries<T>(what: string, turbulence: Turbulence, op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (error instanceof ApiError && error.code === "version_conflict") turbulence.conflicts++;
      if (!isRetryable(error) || attempt >= 40) {
        turbulence.failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        throw error;
      }
      const kind =
        error instanceof ApiError
          ? String(error.status)
          : "status" in (error as object)
            ? String((error as { status: number }).status)
            : "network";
      turbulence.absorbed[kind] = (turbulence.absorbed[kind] ?? 0) + 1;
      await pause(Math.min(100 * attempt, 1_000) * (0.5 + Math.random()));
    }
  }
}

/** A device: its API client, its notifier socket (reopened whenever it drops), and what it committed. */
export class Device {
  readonly committed = new Map<string, number>();
  readonly tokensSeen = new Set<string>();
  #socket: WsDevice | undefined;
  #stopped = false;

  constructor(
    readonly name: string,
    readonly client: ApiClient,
    private readonly notifierUrl: string,
    private readonly token: string,
  ) {
    this.#connect();
  }

  #connect() {
    if (this.#stopped) return;
    const socket = new WsDevice(this.notifierUrl, this.token);
    this.#socket = socket;
    socket.socket.on("message", () => {
      for (const message of socket.messages.splice(0)) this.tokensSeen.add(message.syncToken);
    });
    void socket.closed.then(() => setTimeout(() => this.#connect(), 200 + Math.random() * 300));
  }

  /** Creates `files` files and commits `rounds` new versions of each, uploading fresh chunks each time. */
  async run(files: number, rounds: number, turbulence: Turbulence, onCommit: () => void): Promise<void> {
    const ids: string[] = [];
    for (let f = 0; f < files; f++) {
      const chunk = await this.#upload(turbulence, `${this.name} file ${f} v1`);
      const key = crypto.randomUUID();
      const receipt = await withRetries(`${this.name} create ${f}`, turbulence, () =>
        this.client.createFile(
          { parentId: null, name: `${this.name}-${f}.txt`, isFolder: false, chunks: [chunk] },
          { idempotencyKey: key },
        ),
      );
      ids.push(receipt.fileId);
      this.committed.set(receipt.fileId, receipt.version);
      onCommit();
    }
    for (let round = 2; round <= rounds + 1; round++) {
      for (const fileId of ids) {
        const chunks = [await this.#upload(turbulence, `${this.name} ${fileId} v${round} a`)];
        if (round % 2 === 0)
          chunks.push(await this.#upload(turbulence, `${this.name} ${fileId} v${round} b`));
        const key = crypto.randomUUID();
        const receipt = await withRetries(`${this.name} commit ${fileId}@${round}`, turbulence, () =>
          this.client.commit(fileId, { version: round, chunks }, { idempotencyKey: key }),
        );
        this.committed.set(fileId, receipt.version);
        onCommit();
      }
    }
  }

  async #upload(turbulence: Turbulence, content: string): Promise<ChunkHash> {
    const chunk = await makeChunk(`${content} ${crypto.randomUUID()}`);
    const answer = await withRetries(`${this.name} upload-url`, turbulence, () =>
      this.client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length }),
    );
    if (!answer.exists) {
      const response = await putChunk(answer.uploadUrl ?? "", answer.uploadHeaders, chunk.bytes);
      if (!response.ok) throw new Error(`PUT to the store: ${response.status}`);
    }
    return chunk.hash;
  }

  async close() {
    this.#stopped = true;
    await this.#socket?.close();
  }
}

export async function signUpDevices(
  apiUrl: string,
  notifierUrl: string,
  users: number,
  devicesPerUser: number,
) {
  const anonymous = new ApiClient({ baseUrl: apiUrl });
  const devices: Device[] = [];
  for (let u = 0; u < users; u++) {
    const email = `fault-${u}-${crypto.randomUUID().slice(0, 8)}@example.com`;
    for (let d = 0; d < devicesPerUser; d++) {
      const body = { email, password: "correct horse battery", deviceName: `u${u}d${d}` };
      const session = d === 0 ? await anonymous.register(body) : await anonymous.login(body);
      devices.push(new Device(`u${u}d${d}`, anonymous.withToken(session.token), notifierUrl, session.token));
    }
  }
  return devices;
}
