import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Session } from "@wsync/shared-protocol";
import { z } from "zod";

/** What `login` stores: the servers and this device's session (the token is a secret: mode 0600). */
export const StoredLogin = Session.extend({
  apiUrl: z.string().url(),
  notifierUrl: z.string().url().optional(),
  email: z.string(),
  deviceName: z.string(),
});
export type StoredLogin = z.infer<typeof StoredLogin>;

export function defaultConfigDir(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "wsync");
}

export async function readLogin(configDir: string): Promise<StoredLogin | null> {
  const text = await readFile(join(configDir, "login.json"), "utf8").catch(() => null);
  if (text === null) return null;
  const parsed = StoredLogin.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${join(configDir, "login.json")} is not a valid login; run login again`);
  return parsed.data;
}

export async function writeLogin(configDir: string, login: StoredLogin): Promise<void> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const path = join(configDir, "login.json");
  await writeFile(`${path}.tmp`, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Each synced folder gets its own state folder, outside the folder itself. */
export function stateDirFor(configDir: string, folder: string): string {
  const id = createHash("sha256").update(resolve(folder)).digest("hex").slice(0, 16);
  return join(configDir, "folders", id);
}
