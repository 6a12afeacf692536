import {
  ApiError,
  Email,
  limits,
  NetworkError,
  Password,
  ProtocolError,
  Session,
} from "@wsync/shared-protocol";
import { z } from "zod";

/**
 * What SecretStorage keeps for a signed-in device: the contract's Session plus where it is valid. One
 * secret per server URL, so pointing the settings at another server never sends this token there.
 */
export const StoredSession = Session.extend({
  serverUrl: z.string().min(1),
  email: z.string(),
  deviceName: z.string(),
});
export type StoredSession = z.infer<typeof StoredSession>;

export function sessionSecretKey(serverUrl: string): string {
  return `wsync.session:${serverUrl}`;
}

/** A stored secret that does not parse (an older format, a hand edit) counts as signed out. */
export function parseStoredSession(raw: string | undefined): StoredSession | undefined {
  if (!raw) return undefined;
  try {
    const parsed = StoredSession.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `validateInput` for the email box: undefined when fine, else what is wrong. */
export function checkEmail(value: string): string | undefined {
  if (value.trim() === "") return "Enter your email address";
  return Email.safeParse(value.trim()).success ? undefined : "That does not look like an email address";
}

/** For a new account: the contract's password rule, said in words. */
export function checkNewPassword(value: string): string | undefined {
  if (value === "") return "Enter a password";
  const parsed = Password.safeParse(value);
  if (parsed.success) return undefined;
  if (value.length < limits.passwordMinLength) {
    return `Use at least ${limits.passwordMinLength} characters (this has ${value.length})`;
  }
  return `That password cannot be used: ${parsed.error.issues[0]?.message ?? "invalid"}`;
}

/** What to tell the user when sign-in, account creation or sign-out fails; branches on codes only. */
export function describeAuthError(error: unknown, serverUrl: string): string {
  if (error instanceof ApiError) {
    switch (error.code) {
      case "unauthorized":
        return "Wrong email or password.";
      case "email_taken":
        return "An account with this email already exists. Sign in instead.";
      case "validation_failed":
        return `The server refused the details: ${error.message}`;
      case "rate_limited":
        return "Too many attempts. Wait a minute and try again.";
      default:
        return `The server answered ${error.code}: ${error.message}`;
    }
  }
  if (error instanceof NetworkError) {
    return `Cannot reach the wsync server at ${serverUrl}. Check the "wsync.serverUrl" setting and your connection.`;
  }
  if (error instanceof ProtocolError) {
    return `${serverUrl} answered HTTP ${error.status}, which is not a wsync server's answer. Check the "wsync.serverUrl" setting.`;
  }
  return error instanceof Error ? error.message : String(error);
}
