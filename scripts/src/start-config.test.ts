import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_DIR, parseStartCommand, StartConfigError } from "./start-config.ts";

const start = (argv: string[], env: Record<string, string> = {}) => {
  const command = parseStartCommand(argv, env);
  if (command.kind !== "start") throw new Error("expected a start command");
  return command.config;
};

describe("npm start settings", () => {
  it("default to the embedded services, the contract's ports and the repo's .data folder", () => {
    expect(start([])).toEqual({
      dataDir: DEFAULT_DATA_DIR,
      apiPort: 8787,
      notifierPort: 8788,
      s3Port: 8789,
      pgPort: 8790,
      bucket: "wsync-chunks",
    });
    expect(DEFAULT_DATA_DIR).toMatch(/[/\\]\.data$/);
  });

  it("take environment variables over defaults, and flags over environment variables", () => {
    const env = { WSYNC_API_PORT: "9001", WSYNC_NOTIFIER_PORT: "9002", WSYNC_DATA_DIR: "/tmp/from-env" };
    expect(start([], env)).toMatchObject({ apiPort: 9001, notifierPort: 9002, dataDir: "/tmp/from-env" });
    expect(start(["--api-port", "9100", "--data-dir=/tmp/from-flag"], env)).toMatchObject({
      apiPort: 9100,
      notifierPort: 9002,
      dataDir: "/tmp/from-flag",
    });
  });

  it("treat empty environment variables as unset", () => {
    expect(start([], { WSYNC_API_PORT: "", DATABASE_URL: " " })).toMatchObject({ apiPort: 8787 });
    expect(start([], { DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });

  it("accept port 0 as any free port", () => {
    expect(start(["--s3-port", "0", "--pg-port", "0"])).toMatchObject({ s3Port: 0, pgPort: 0 });
  });

  it.each([
    [["--api-port", "http"], {}, "the edge API port must be a port number"],
    [["--notifier-port", "70000"], {}, "the notifier port must be between 0 and 65535"],
    [[], { WSYNC_PG_PORT: "5432.5" }, "the PostgreSQL port must be a whole number"],
    [[], { DATABASE_URL: "mysql://x@y/z" }, "DATABASE_URL must be a postgres or postgresql URL"],
    [
      [],
      { S3_ENDPOINT: "http://127.0.0.1:9000" },
      "S3_ENDPOINT needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",
    ],
    [[], { S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s" }, "are set but S3_ENDPOINT is not"],
    [[], { S3_BUCKET: "Not_A_Bucket" }, "S3_BUCKET must be a valid S3 bucket name"],
    [[], { KAFKA_BROKERS: "localhost" }, "KAFKA_BROKERS must be host:port, comma-separated"],
  ])("reject %j %j with a message naming the setting", (argv, env, message) => {
    expect(() => parseStartCommand(argv, env)).toThrow(StartConfigError);
    expect(() => parseStartCommand(argv, env)).toThrow(message);
  });

  it("reject an unknown flag and show the help with it", () => {
    expect(() => parseStartCommand(["--api-prot", "1"], {})).toThrow(
      /Unknown option '--api-prot'[\s\S]*WSYNC_API_PORT/,
    );
  });

  it("name external services when their environment variables are set", () => {
    const config = start([], {
      DATABASE_URL: "postgres://app:secret@db.internal:5432/wsync",
      S3_ENDPOINT: "https://s3.example.com",
      S3_REGION: "eu-west-1",
      S3_ACCESS_KEY_ID: "AKIA",
      S3_SECRET_ACCESS_KEY: "shh",
      S3_BUCKET: "team-chunks",
      KAFKA_BROKERS: "k1:9092, k2:9092",
    });
    expect(config).toMatchObject({
      databaseUrl: "postgres://app:secret@db.internal:5432/wsync",
      s3: {
        endpoint: "https://s3.example.com",
        region: "eu-west-1",
        accessKeyId: "AKIA",
        secretAccessKey: "shh",
      },
      bucket: "team-chunks",
      kafkaBrokers: ["k1:9092", "k2:9092"],
    });
  });

  it("answer --help with every setting's flag or variable", () => {
    const command = parseStartCommand(["--help"], {});
    expect(command.kind).toBe("help");
    if (command.kind !== "help") return;
    for (const name of [
      "--data-dir",
      "WSYNC_API_PORT",
      "DATABASE_URL",
      "S3_ENDPOINT",
      "S3_BUCKET",
      "KAFKA_BROKERS",
    ]) {
      expect(command.text).toContain(name);
    }
  });
});
