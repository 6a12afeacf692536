import { fileNameProblem, limits } from "@wsync/shared-protocol";

/** A device name made safe for a file name: no slashes, control characters or dots-only. */
function safeDeviceName(deviceName: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const cleaned = deviceName.replace(/[/\\\u0000-\u001f\u007f-\u009f]/g, "-").trim();
  return cleaned.length > 0 && fileNameProblem(cleaned) === null ? cleaned : "device";
}

const byteLength = (text: string) => new TextEncoder().encode(text).length;

/**
 * `name (conflicted copy - <device> - YYYY-MM-DD).ext`, like Dropbox; ` 2`, ` 3`... after the date when
 * taken. The extension is what follows the last dot (none for `.bashrc` or `Makefile`). Long names are
 * shortened so the result stays within the contract's 255 bytes.
 */
export function conflictedCopyName(
  name: string,
  deviceName: string,
  date: Date,
  taken: (candidate: string) => boolean,
): string {
  const dot = name.lastIndexOf(".");
  const hasExtension = dot > 0 && dot < name.length - 1;
  const extension = hasExtension ? name.slice(dot) : "";
  let stem = hasExtension ? name.slice(0, dot) : name;
  const day = date.toISOString().slice(0, 10);
  const device = safeDeviceName(deviceName).slice(0, 64);
  for (let n = 1; ; n++) {
    const suffix = ` (conflicted copy - ${device} - ${day}${n > 1 ? ` ${n}` : ""})${extension}`;
    while (byteLength(stem + suffix) > limits.nameMaxBytes && stem.length > 1)
      stem = [...stem].slice(0, -1).join("");
    const candidate = stem + suffix;
    if (!taken(candidate)) return candidate;
  }
}

/** Whether a name looks like one of our conflicted copies (for status and the extension's view). */
export function isConflictedCopyName(name: string): boolean {
  return / \(conflicted copy - .+ - \d{4}-\d{2}-\d{2}( \d+)?\)(\.[^.]+)?$/.test(name);
}
