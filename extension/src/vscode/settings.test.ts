import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_IGNORE, needsRestart, PARALLELISM_RANGE, readSettings } from "./settings.ts";

const getterOf =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

describe("readSettings", () => {
  it("falls back to the local stack and the defaults when nothing is set", () => {
    const { settings, problems } = readSettings(getterOf({}), "my-laptop");
    expect(settings).toEqual({
      serverUrl: "http://127.0.0.1:8787",
      notifierUrl: "http://127.0.0.1:8788",
      ignore: DEFAULT_IGNORE,
      uploadParallelism: 4,
      paused: false,
      deviceName: "my-laptop",
    });
    expect(problems).toEqual([]);
  });

  it("keeps valid values, trimming a trailing slash from URLs", () => {
    const { settings, problems } = readSettings(
      getterOf({
        serverUrl: "https://sync.example.com/",
        notifierUrl: "https://push.example.com",
        ignore: ["dist/", "", 3, "*.log"],
        uploadParallelism: 8,
        paused: true,
        deviceName: "  desk  ",
      }),
      "host",
    );
    expect(settings).toEqual({
      serverUrl: "https://sync.example.com",
      notifierUrl: "https://push.example.com",
      ignore: ["dist/", "*.log"],
      uploadParallelism: 8,
      paused: true,
      deviceName: "desk",
    });
    expect(problems).toEqual([]);
  });

  it("reports a bad URL and a parallelism out of range, and uses safe values instead", () => {
    const { settings, problems } = readSettings(
      getterOf({ serverUrl: "ftp://x", notifierUrl: "not a url", uploadParallelism: 500 }),
      "h",
    );
    expect(settings.serverUrl).toBe("http://127.0.0.1:8787");
    expect(settings.notifierUrl).toBe("http://127.0.0.1:8788");
    expect(settings.uploadParallelism).toBe(PARALLELISM_RANGE.max);
    expect(problems.map((problem) => problem.key).sort()).toEqual([
      "notifierUrl",
      "serverUrl",
      "uploadParallelism",
    ]);
  });

  it("rejects a fractional parallelism and a non-list ignore setting", () => {
    const { settings, problems } = readSettings(getterOf({ uploadParallelism: 2.5, ignore: "dist/" }), "h");
    expect(settings.uploadParallelism).toBe(PARALLELISM_RANGE.default);
    expect(settings.ignore).toEqual(DEFAULT_IGNORE);
    expect(problems.map((problem) => problem.key).sort()).toEqual(["ignore", "uploadParallelism"]);
  });

  it("agrees with the defaults package.json declares to VS Code", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const properties = manifest.contributes.configuration.properties;
    const { settings } = readSettings(getterOf({}), "h");
    expect(properties["wsync.serverUrl"].default).toBe(settings.serverUrl);
    expect(properties["wsync.notifierUrl"].default).toBe(settings.notifierUrl);
    expect(properties["wsync.ignore"].default).toEqual(settings.ignore);
    expect(properties["wsync.uploadParallelism"].default).toBe(settings.uploadParallelism);
    expect(properties["wsync.uploadParallelism"].minimum).toBe(PARALLELISM_RANGE.min);
    expect(properties["wsync.uploadParallelism"].maximum).toBe(PARALLELISM_RANGE.max);
    expect(properties["wsync.paused"].default).toBe(settings.paused);
  });
});

describe("needsRestart", () => {
  const base = readSettings(getterOf({}), "h").settings;
  it("restarts the engine for a new server or new ignore patterns, not for pausing", () => {
    expect(needsRestart(base, { ...base, paused: true })).toBe(false);
    expect(needsRestart(base, { ...base, serverUrl: "http://other:1" })).toBe(true);
    expect(needsRestart(base, { ...base, ignore: [...base.ignore, "x"] })).toBe(true);
  });
});
