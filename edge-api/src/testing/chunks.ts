import { type ApiClient, type ChunkHash, chunkHashFromDigest } from "@wsync/shared-protocol";

export interface TestChunk {
  hash: ChunkHash;
  bytes: Uint8Array<ArrayBuffer>;
}

/** A chunk with the given content (text, or `size` random bytes). */
export async function makeChunk(content: string | number): Promise<TestChunk> {
  const bytes =
    typeof content === "string"
      ? new TextEncoder().encode(content)
      : crypto.getRandomValues(new Uint8Array(content));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return { hash: chunkHashFromDigest(digest), bytes };
}

/** Sends bytes to a presigned URL the way a client must: with the headers the API named. */
export async function putChunk(
  url: string,
  headers: Record<string, string> | undefined,
  bytes: Uint8Array<ArrayBuffer>,
) {
  return fetch(url, { method: "PUT", headers: headers ?? {}, body: bytes });
}

/** Asks for an upload URL and uploads, as the sync engine does. Returns whether an upload was needed. */
export async function uploadChunk(client: ApiClient, chunk: TestChunk): Promise<boolean> {
  const answer = await client.uploadUrl({ chunkHash: chunk.hash, size: chunk.bytes.length });
  if (answer.exists) return false;
  const response = await putChunk(answer.uploadUrl ?? "", answer.uploadHeaders, chunk.bytes);
  if (!response.ok) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return true;
}
