import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";

/** Where `npm start` keeps its PostgreSQL cluster and S3 objects unless told otherwise (git-ignored). */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL("../../.data", import.meta.url));

export const DEFAULT_PORTS = { api: 8787, notifier: 8788, s3: 8789, postgres: 8790 } as const;
export const DEFAULT_BUCKET = "wsync-chunks";
export const DEFAULT_REGION = "us-east-1";

export interface ExternalS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StartConfig {
  dataDir: string;
  apiPort: number;
  notifierPort: number;
  /** Port of the embedded S3 store; unused when `s3` names an external one. */
  s3Port: number;
  /** Port of the embedded PostgreSQL; unused when `databaseUrl` is set. */
  pgPort: number;
  /** An external PostgreSQL database for the app, instead of the embedded cluster. */
  databaseUrl?: string;
  /** An external S3-compatible store, instead of the embedded one. */
  s3?: ExternalS3;
  bucket: string;
  /** Kafka brokers for the notifier's bus, instead of the in-process bus. */
  kafkaBrokers?: string[];
}

export type StartCommand = { kind: "help"; text: string } | { kind: "start"; config: StartConfig };

/** Every setting: its flag, its environment variable, and what it means (also the --help text). */
export const SETTINGS = [
  { flag: "data-dir", env: "WSYNC_DATA_DIR", default: ".data/", about: "where embedded data lives" },
  { flag: "api-port", env: "WSYNC_API_PORT", default: "8787", about: "edge API port (0: any free port)" },
  { flag: "notifier-port", env: "WSYNC_NOTIFIER_PORT", default: "8788", about: "notifier port (0: any)" },
  { flag: "s3-port", env: "WSYNC_S3_PORT", default: "8789", about: "embedded S3 store port (0: any)" },
  { flag: "pg-port", env: "WSYNC_PG_PORT", default: "8790", about: "embedded PostgreSQL port (0: any)" },
  { flag: undefined, env: "DATABASE_URL", default: "", about: "use this PostgreSQL database instead" },
  { flag: undefined, env: "S3_ENDPOINT", default: "", about: "use this S3 store instead (with the keys)" },
  { flag: undefined, env: "S3_REGION", default: DEFAULT_REGION, about: "region of S3_ENDPOINT" },
  { flag: undefined, env: "S3_ACCESS_KEY_ID", default: "", about: "access key of S3_ENDPOINT" },
  { flag: undefined, env: "S3_SECRET_ACCESS_KEY", default: "", about: "secret key of S3_ENDPOINT" },
  {
    flag: undefined,
    env: "S3_BUCKET",
    default: DEFAULT_BUCKET,
    about: "bucket for chunks (made if missing)",
  },
  {
    flag: undefined,
    env: "KAFKA_BROKERS",
    default: "",
    about: "host:port,... use Kafka, not the in-process bus",
  },
] as const;

export class StartConfigError extends Error {
  override name = "StartConfigError";
}

const port = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a port number` })
    .int(`${name} must be a whole number`)
    .min(0, `${name} must be between 0 and 65535`)
    .max(65535, `${name} must be between 0 and 65535`);

const url = (name: string, schemes: readonly string[]) =>
  z
    .string()
    .refine((value) => URL.canParse(value) && schemes.includes(new URL(value).protocol.slice(0, -1)), {
      error: `${name} must be a ${schemes.join(" or ")} URL`,
    });

const nonEmpty = z.string().trim().min(1).optional();

const schema = z
  .object({
    dataDir: z.string().min(1, "the data folder must not be empty"),
    apiPort: port("the edge API port"),
    notifierPort: port("the notifier port"),
    s3Port: port("the S3 store port"),
    pgPort: port("the PostgreSQL port"),
    databaseUrl: url("DATABASE_URL", ["postgres", "postgresql"]).optional(),
    s3Endpoint: url("S3_ENDPOINT", ["http", "https"]).optional(),
    s3Region: z.string().min(1),
    s3AccessKeyId: nonEmpty,
    s3SecretAccessKey: nonEmpty,
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "S3_BUCKET must be a valid S3 bucket name"),
    kafkaBrokers: z
      .string()
      .transform((value) =>
        value
          .split(",")
          .map((broker) => broker.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, "KAFKA_BROKERS must be host:port, comma-separated")))
      .optional(),
  })
  .superRefine((value, context) => {
    const keysGiven = value.s3AccessKeyId !== undefined || value.s3SecretAccessKey !== undefined;
    if (value.s3Endpoint && (!value.s3AccessKeyId || !value.s3SecretAccessKey)) {
      context.addIssue({
        code: "custom",
        message: "S3_ENDPOINT needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY",
      });
    } else if (!value.s3Endpoint && keysGiven) {
      context.addIssue({
        code: "custom",
        message:
          "S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY are set but S3_ENDPOINT is not (the embedded store makes its own keys)",
      });
    }
  });

/**
 * `npm start`'s settings from its arguments and environment. A flag beats its environment variable,
 * which beats the default. Empty environment variables count as unset.
 */
export function parseStartCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): StartCommand {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw new StartConfigError(`${(error as Error).message}\n\n${helpText()}`);
  }
  if (parsed.help) return { kind: "help", text: helpText() };
  const fromEnv = (name: string) => (env[name]?.trim() ? env[name] : undefined);
  const result = schema.safeParse({
    dataDir: parsed["data-dir"] ?? fromEnv("WSYNC_DATA_DIR") ?? DEFAULT_DATA_DIR,
    apiPort: parsed["api-port"] ?? fromEnv("WSYNC_API_PORT") ?? DEFAULT_PORTS.api,
    notifierPort: parsed["notifier-port"] ?? fromEnv("WSYNC_NOTIFIER_PORT") ?? DEFAULT_PORTS.notifier,
    s3Port: parsed["s3-port"] ?? fromEnv("WSYNC_S3_PORT") ?? DEFAULT_PORTS.s3,
    pgPort: parsed["pg-port"] ?? fromEnv("WSYNC_PG_PORT") ?? DEFAULT_PORTS.postgres,
    databaseUrl: fromEnv("DATABASE_URL"),
    s3Endpoint: fromEnv("S3_ENDPOINT"),
    s3Region: fromEnv("S3_REGION") ?? DEFAULT_REGION,
    s3AccessKeyId: fromEnv("S3_ACCESS_KEY_ID"),
    s3SecretAccessKey: fromEnv("S3_SECRET_ACCESS_KEY"),
    bucket: fromEnv("S3_BUCKET") ?? DEFAULT_BUCKET,
    kafkaBrokers: fromEnv("KAFKA_BROKERS"),
  });
  if (!result.success) {
    throw new StartConfigError(result.error.issues.map((issue) => issue.message).join("\n"));
  }
  const value = result.data;
  const config: StartConfig = {
    dataDir: resolve(value.dataDir),
    apiPort: value.apiPort,
    notifierPort: value.notifierPort,
    s3Port: value.s3Port,
    pgPort: value.pgPort,
    bucket: value.bucket,
  };
  if (value.databaseUrl) config.databaseUrl = value.databaseUrl;
  if (value.s3Endpoint && value.s3AccessKeyId && value.s3SecretAccessKey) {
    config.s3 = {
      endpoint: value.s3Endpoint,
      region: value.s3Region,
      accessKeyId: value.s3AccessKeyId,
      secretAccessKey: value.s3SecretAccessKey,
    };
  }
  if (value.kafkaBrokers?.length) config.kafkaBrokers = value.kafkaBrokers;
  return { kind: "start", config };
}

function parseFlags(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: "boolean", short: "h" },
      "data-dir": { type: "string" },
      "api-port": { type: "string" },
      "notifier-port": { type: "string" },
      "s3-port": { type: "string" },
      "pg-port": { type: "string" },
    },
  });
  return values;
}

export function helpText(): string {
  const rows = SETTINGS.map((setting) => {
    const names = setting.flag ? `--${setting.flag}, ${setting.env}` : setting.env;
    const fallback = setting.default ? ` (default ${setting.default})` : "";
    return `  ${names.padEnd(36)} ${setting.about}${fallback}`;
  });
  return [
    "npm start [-- options]: the whole wsync backend on this machine, on 127.0.0.1.",
    "Embedded PostgreSQL and S3 store, the edge API and the notifier; data kept in the data folder.",
    "",
    "Options (a flag beats its environment variable):",
    ...rows,
    "  --help, -h                           show this text",
  ].join("\n");
}
