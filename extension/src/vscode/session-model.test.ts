import { ApiError, NetworkError, ProtocolError } from "@wsync/shared-protocol";
import { describe, expect, it } from "vitest";
import {
  checkEmail,
  checkNewPassword,
  describeAuthError,
  parseStoredSession,
  sessionSecretKey,
} from "./session-model.ts";

const session = {
  userId: "u-1",
  deviceId: "d-1",
  token: "secret-token",
  serverUrl: "http://127.0.0.1:8787",
  email: "ada@example.com",
  deviceName: "laptop",
};

describe("stored sessions", () => {
  it("round-trip through JSON", () => {
    expect(parseStoredSession(JSON.stringify(session))).toEqual(session);
  });

  it("count as signed out when missing, malformed or incomplete", () => {
    expect(parseStoredSession(undefined)).toBeUndefined();
    expect(parseStoredSession("{not json")).toBeUndefined();
    expect(parseStoredSession(JSON.stringify({ ...session, token: "" }))).toBeUndefined();
    expect(parseStoredSession(JSON.stringify({ userId: "u" }))).toBeUndefined();
  });

  it("are kept per server, so another server never gets this token", () => {
    expect(sessionSecretKey("http://a:1")).not.toBe(sessionSecretKey("http://b:1"));
  });
});

describe("input checks", () => {
  it("accept an email and explain a bad one", () => {
    expect(checkEmail("ada@example.com")).toBeUndefined();
    expect(checkEmail(" ada@example.com ")).toBeUndefined();
    expect(checkEmail("")).toBe("Enter your email address");
    expect(checkEmail("ada")).toContain("does not look like");
  });

  it("ask for at least 8 characters in a new password", () => {
    expect(checkNewPassword("long enough")).toBeUndefined();
    expect(checkNewPassword("short")).toBe("Use at least 8 characters (this has 5)");
    expect(checkNewPassword("")).toBe("Enter a password");
  });
});

describe("describeAuthError", () => {
  const server = "http://127.0.0.1:8787";
  it("turns contract codes into advice", () => {
    expect(describeAuthError(new ApiError("unauthorized", "bad credentials"), server)).toBe(
      "Wrong email or password.",
    );
    expect(describeAuthError(new ApiError("email_taken", "taken"), server)).toContain("Sign in instead");
    expect(describeAuthError(new ApiError("rate_limited", "slow down"), server)).toContain(
      "Too many attempts",
    );
  });

  it("names the server that cannot be reached or is not ours", () => {
    expect(describeAuthError(new NetworkError("ECONNREFUSED"), server)).toContain(server);
    expect(describeAuthError(new ProtocolError("html", 502), server)).toContain("HTTP 502");
  });
});
