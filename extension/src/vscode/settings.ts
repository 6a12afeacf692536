import { NOTIFIER_DEFAULTS } from "@wsync/shared-protocol";

/** The `wsync.*` settings, checked and with defaults applied. Pure: the adapter passes a getter. */
export interface Settings {
  serverUrl: string;
  notifierUrl: string;
  ignore: string[];
  uploadParallelism: number;
  paused: boolean;
  deviceName: string;
}

export const DEFAULT_IGNORE = [".git/", "node_modules/", ".DS_Store", "*.tmp", "*.swp"];
export const PARALLELISM_RANGE = { min: 1, max: 32, default: 4 } as const;

/** A problem with one setting, reported to the user; the default is used instead. */
export interface SettingProblem {
  key: string;
  message: string;
}

/** Reads a setting by its key below `wsync.`; `undefined` when unset. */
export type SettingGetter = (key: string) => unknown;

export function readSettings(
  get: SettingGetter,
  hostName: string,
): { settings: Settings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const url = (key: string, fallback: string): string => {
    const value = get(key);
    if (value === undefined || value === null || value === "") return fallback;
    if (typeof value === "string" && isHttpUrl(value)) return value.replace(/\/+$/, "");
    problems.push({ key, message: `"${String(value)}" is not an http(s) URL; using ${fallback}` });
    return fallback;
  };

  const rawIgnore = get("ignore");
  let ignore = DEFAULT_IGNORE;
  if (Array.isArray(rawIgnore)) {
    ignore = rawIgnore.filter((entry): entry is string => typeof entry === "string" && entry.trim() !== "");
  } else if (rawIgnore !== undefined) {
    problems.push({ key: "ignore", message: "must be a list of patterns; using the defaults" });
  }

  const rawParallelism = get("uploadParallelism");
  let uploadParallelism: number = PARALLELISM_RANGE.default;
  if (typeof rawParallelism === "number" && Number.isInteger(rawParallelism)) {
    uploadParallelism = Math.min(PARALLELISM_RANGE.max, Math.max(PARALLELISM_RANGE.min, rawParallelism));
    if (uploadParallelism !== rawParallelism) {
      problems.push({
        key: "uploadParallelism",
        message: `${rawParallelism} is outside ${PARALLELISM_RANGE.min}..${PARALLELISM_RANGE.max}; using ${uploadParallelism}`,
      });
    }
  } else if (rawParallelism !== undefined) {
    problems.push({
      key: "uploadParallelism",
      message: `must be a whole number; using ${uploadParallelism}`,
    });
  }

  const rawDeviceName = get("deviceName");
  const deviceName =
    typeof rawDeviceName === "string" && rawDeviceName.trim() !== "" ? rawDeviceName.trim() : hostName;

  return {
    settings: {
      serverUrl: url("serverUrl", NOTIFIER_DEFAULTS.apiUrl),
      notifierUrl: url("notifierUrl", NOTIFIER_DEFAULTS.notifierUrl),
      ignore,
      uploadParallelism,
      paused: get("paused") === true,
      deviceName,
    },
    problems,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Which settings changes need the engine restarted (a different server or account space). */
export function needsRestart(before: Settings, after: Settings): boolean {
  return (
    before.serverUrl !== after.serverUrl ||
    before.notifierUrl !== after.notifierUrl ||
    before.uploadParallelism !== after.uploadParallelism ||
    before.ignore.join("\n") !== after.ignore.join("\n")
  );
}
