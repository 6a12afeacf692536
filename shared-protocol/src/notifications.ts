import { z } from "zod";
import { FileAction, Id, SyncToken, Version } from "./common.ts";
import { limits } from "./limits.ts";

/** Sent once a WebSocket is connected: the newest sync token for this user. */
export const HelloMessage = z.object({ type: z.literal("hello"), syncToken: SyncToken });
export type HelloMessage = z.infer<typeof HelloMessage>;

/** Sent for each change of the user's files, by any device (the sender's own included). */
export const ChangedMessage = z.object({
  type: z.literal("changed"),
  fileId: Id,
  version: Version,
  action: FileAction,
  deviceId: Id.nullable(),
  syncToken: SyncToken,
});
export type ChangedMessage = z.infer<typeof ChangedMessage>;

export const NotifierMessage = z.discriminatedUnion("type", [HelloMessage, ChangedMessage]);
export type NotifierMessage = z.infer<typeof NotifierMessage>;

/** WebSocket close code for a missing, unknown or revoked token. */
export const WS_CLOSE_UNAUTHORIZED = 4401;

/** `GET /poll?since=<syncToken>&timeout=<seconds>`. */
export const PollQuery = z.object({
  since: SyncToken,
  timeout: z.coerce
    .number()
    .int()
    .min(0)
    .max(limits.pollTimeoutMaxSeconds)
    .default(limits.pollTimeoutDefaultSeconds),
});
export type PollQuery = z.infer<typeof PollQuery>;

export const PollResponse = z.object({ changed: z.boolean(), syncToken: SyncToken });
export type PollResponse = z.infer<typeof PollResponse>;

/**
 * What the outbox carries from the edge API to the notifier (over Kafka or the in-process bus), keyed
 * by user so each user's events stay in order. Written in the same transaction as the change itself.
 */
export const FileChangedEvent = z.object({
  type: z.literal("file_changed"),
  userId: Id,
  fileId: Id,
  version: Version,
  action: FileAction,
  deviceId: Id.nullable(),
  syncToken: SyncToken,
});
export type FileChangedEvent = z.infer<typeof FileChangedEvent>;

/** A device was revoked: the notifier closes its sockets with 4401 at once. */
export const DeviceRevokedEvent = z.object({
  type: z.literal("device_revoked"),
  userId: Id,
  deviceId: Id,
});
export type DeviceRevokedEvent = z.infer<typeof DeviceRevokedEvent>;

export const BusEvent = z.discriminatedUnion("type", [FileChangedEvent, DeviceRevokedEvent]);
export type BusEvent = z.infer<typeof BusEvent>;

export const NOTIFIER_DEFAULTS = {
  apiUrl: "http://127.0.0.1:8787",
  notifierUrl: "http://127.0.0.1:8788",
  webSocketUrl: "ws://127.0.0.1:8788/ws",
} as const;
