import { ApiError } from "@wsync/shared-protocol";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Ids are opaque to clients but the server issues UUIDs, so anything else names nothing: `not_found`,
 * before it could reach SQL as a bad cast.
 */
export function existingId(id: string | undefined | null, what: string): string {
  const lower = id?.toLowerCase();
  if (!lower || !uuidPattern.test(lower)) throw new ApiError("not_found", `no such ${what}`);
  return lower;
}
