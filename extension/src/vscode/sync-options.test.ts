import { describe, expect, it } from "vitest";
import { readSettings } from "./settings.ts";
import { syncOptions } from "./sync-options.ts";

const session = {
  userId: "u",
  deviceId: "d-1",
  token: "t",
  serverUrl: "http://api.example:8787",
  email: "ada@example.com",
  deviceName: "laptop",
};

describe("syncOptions", () => {
  it("passes the ignore patterns, parallelism and notifier from the settings to the engine", () => {
    const { settings } = readSettings(
      (key) =>
        ({ ignore: ["dist/", "*.log"], uploadParallelism: 9, notifierUrl: "http://push.example:8788" })[key],
      "host",
    );
    expect(syncOptions(settings, session, "/work/folder", "/state")).toEqual({
      folder: "/work/folder",
      stateDir: "/state",
      apiUrl: "http://api.example:8787",
      notifierUrl: "http://push.example:8788",
      token: "t",
      deviceId: "d-1",
      deviceName: "laptop",
      concurrency: 9,
      ignorePatterns: ["dist/", "*.log"],
    });
  });

  it("talks to the server that issued the token", () => {
    const { settings } = readSettings((key) => ({ serverUrl: "http://elsewhere:1" })[key], "host");
    expect(syncOptions(settings, session, "/f", "/s").apiUrl).toBe(session.serverUrl);
  });
});
