import { z } from "zod";

/** Ids are opaque strings; the server issues UUIDs. */
export const Id = z.string().min(1).max(64);
export type Id = z.infer<typeof Id>;

/** RFC 3339 UTC time, e.g. `2026-03-15T09:22:10Z` (fractional seconds allowed). */
export const Timestamp = z.iso.datetime({ offset: false });
export type Timestamp = z.infer<typeof Timestamp>;

/** A file version number: the first version of a file is 1. */
export const Version = z.number().int().min(1).max(2_147_483_647);

/** An opaque cursor into a user's change journal. Clients store it and send it back unchanged. */
export const SyncToken = z.string().min(1).max(256);
export type SyncToken = z.infer<typeof SyncToken>;

export const FileAction = z.enum(["created", "modified", "moved", "deleted"]);
export type FileAction = z.infer<typeof FileAction>;

export const ByteSize = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
