import { z } from "zod";
import { limits } from "./limits.ts";

// Control characters (C0, DEL, C1) are refused: they corrupt terminals, logs and some file systems.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;
const utf8 = new TextEncoder();

/**
 * Why a name is not one valid path segment, or null when it is. Shared by the server, which refuses
 * such names, and the engine, which never writes one to disk whatever a server sends.
 */
export function fileNameProblem(name: string): string | null {
  if (name.length === 0) return "must not be empty";
  if (name === "." || name === "..") return "must not be . or ..";
  if (name.includes("/") || name.includes("\\")) return "must not contain / or \\";
  if (controlCharacters.test(name)) return "must not contain NUL or other control characters";
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most names need no encoding to be measured (the
  // engine checks every name the server sends on every plan).
  if (name.length * 3 > limits.nameMaxBytes && utf8.encode(name).length > limits.nameMaxBytes)
    return `must be at most ${limits.nameMaxBytes} bytes of UTF-8`;
  if (!name.isWellFormed()) return "must be well-formed Unicode";
  return null;
}

export const FileName = z.string().superRefine((name, ctx) => {
  const problem = fileNameProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
