import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { EXTENSION_DEFAULTS, EXTENSION_SETTINGS, formatBanner, redactPassword } from "./banner.ts";

const stack = {
  apiUrl: "http://127.0.0.1:8787",
  notifierUrl: "http://127.0.0.1:8788",
  databaseUrl: "postgres://postgres:postgres@127.0.0.1:8790/wsync",
  s3: {
    endpoint: "http://127.0.0.1:8789",
    region: "us-east-1",
    bucket: "wsync-chunks",
    accessKeyId: "wsyncabc",
    secretAccessKey: "very-secret",
  },
  embedded: { postgres: true, s3: true, bus: true },
  dataDir: "/repo/.data",
};

describe("the npm start banner", () => {
  it("names the extension's real settings and their real defaults", async () => {
    const manifest = JSON.parse(
      await readFile(new URL("../../extension/package.json", import.meta.url), "utf8"),
    );
    const properties = manifest.contributes.configuration.properties;
    expect(properties[EXTENSION_SETTINGS.serverUrl].default).toBe(EXTENSION_DEFAULTS.serverUrl);
    expect(properties[EXTENSION_SETTINGS.notifierUrl].default).toBe(EXTENSION_DEFAULTS.notifierUrl);
  });

  it("shows every URL, says the defaults already fit, and never shows the S3 secret", () => {
    const text = formatBanner(stack);
    expect(text).toContain("http://127.0.0.1:8787/healthz");
    expect(text).toContain("ws://127.0.0.1:8788/ws");
    expect(text).toContain("/repo/.data");
    expect(text).toContain("default settings point here already");
    expect(text).not.toContain("very-secret");
  });

  it("tells how to point the extension elsewhere when the ports differ", () => {
    const text = formatBanner({ ...stack, apiUrl: "http://127.0.0.1:9000" });
    expect(text).toContain('"wsync.serverUrl": "http://127.0.0.1:9000"');
    expect(text).not.toContain("default settings point here already");
  });

  it("hides the password of an external database", () => {
    const external = { ...stack, databaseUrl: "postgres://app:hunter2@db:5432/wsync" };
    const text = formatBanner({ ...external, embedded: { ...stack.embedded, postgres: false } });
    expect(text).not.toContain("hunter2");
    expect(redactPassword("postgres://app:hunter2@db:5432/wsync")).toBe("postgres://app:***@db:5432/wsync");
  });
});
