import type { IncomingMessage } from "node:http";

export interface DeviceIdentity {
  userId: string;
  deviceId: string;
}

/** Checks a device token against the edge API's tables: null for unknown or revoked tokens. */
export type Authenticate = (token: string) => Promise<DeviceIdentity | null>;

/** Longer than any token we issue; a bigger one is not worth a database round trip. */
const TOKEN_MAX_LENGTH = 1024;

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(request: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  return usable(match?.[1]);
}

/** A WebSocket may carry its token in the header or, where a client cannot set headers, as `?token=`. */
export function socketToken(request: IncomingMessage): string | null {
  return bearerToken(request) ?? usable(requestUrl(request).searchParams.get("token") ?? undefined);
}

export function requestUrl(request: IncomingMessage): URL {
  return new URL(request.url ?? "/", "http://notifier.invalid");
}

function usable(token: string | undefined): string | null {
  return token && token.length <= TOKEN_MAX_LENGTH ? token : null;
}
