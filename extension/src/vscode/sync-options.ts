import type { SyncEngineOptions } from "../engine/index.ts";
import type { StoredSession } from "./session-model.ts";
import type { Settings } from "./settings.ts";

/**
 * The engine's options from the settings and the signed-in device. The API URL is the session's (the
 * server that issued the token), never the settings' alone, so a token is only ever sent where it was
 * issued.
 */
export function syncOptions(
  settings: Settings,
  session: StoredSession,
  folderPath: string,
  stateDir: string,
): SyncEngineOptions {
  return {
    folder: folderPath,
    stateDir,
    apiUrl: session.serverUrl,
    notifierUrl: settings.notifierUrl,
    token: session.token,
    deviceId: session.deviceId,
    deviceName: session.deviceName,
    concurrency: settings.uploadParallelism,
    ignorePatterns: settings.ignore,
  };
}
