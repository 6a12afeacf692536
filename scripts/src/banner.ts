import type { LocalStack } from "./local-stack.ts";

/** The extension's settings that name the servers (extension/package.json contributes.configuration). */
export const EXTENSION_SETTINGS = { serverUrl: "wsync.serverUrl", notifierUrl: "wsync.notifierUrl" } as const;
/** What those settings default to (API.md, "Local defaults"). */
export const EXTENSION_DEFAULTS = {
  serverUrl: "http://127.0.0.1:8787",
  notifierUrl: "http://127.0.0.1:8788",
};

type BannerInput = Pick<LocalStack, "apiUrl" | "notifierUrl" | "databaseUrl" | "s3" | "embedded"> & {
  dataDir: string;
  /** The file with the services' settings for other tools (stack-env-file.ts). */
  envFile?: string;
};

/** What `npm start` prints once everything answers: where things are and how to use them. */
export function formatBanner(stack: BannerInput): string {
  const where = (embedded: boolean) => (embedded ? "embedded" : "external");
  const wsUrl = `${stack.notifierUrl.replace(/^http/, "ws")}/ws`;
  const lines = [
    "",
    "wsync is running on this machine.",
    "",
    `  edge API    ${stack.apiUrl}    (health: ${stack.apiUrl}/healthz)`,
    `  notifier    ${stack.notifierUrl}    (WebSocket: ${wsUrl}, bus: ${stack.embedded.bus ? "in-process" : "Kafka"})`,
    `  PostgreSQL  ${stack.embedded.postgres ? stack.databaseUrl : redactPassword(stack.databaseUrl)}    (${where(stack.embedded.postgres)})`,
    `  S3 store    ${stack.s3.endpoint}, bucket ${stack.s3.bucket}    (${where(stack.embedded.s3)})`,
  ];
  if (stack.embedded.postgres || stack.embedded.s3) lines.push(`  data        ${stack.dataDir}`);
  if (stack.envFile) lines.push(`  settings    ${stack.envFile}    (DATABASE_URL and S3_*, for other tools)`);
  lines.push("");
  const isDefault =
    stack.apiUrl === EXTENSION_DEFAULTS.serverUrl && stack.notifierUrl === EXTENSION_DEFAULTS.notifierUrl;
  if (isDefault) {
    lines.push("The extension's default settings point here already. To set them anyway (settings.json):");
  } else {
    lines.push("Point the extension here in its settings (settings.json):");
  }
  lines.push(
    `  "${EXTENSION_SETTINGS.serverUrl}": "${stack.apiUrl}",`,
    `  "${EXTENSION_SETTINGS.notifierUrl}": "${stack.notifierUrl}"`,
    "",
    "Press Ctrl-C to stop everything.",
    "",
  );
  return lines.join("\n");
}

/** A database URL fit to print: the password (of an external database) replaced by `***`. */
export function redactPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = "***";
  return url.toString();
}
