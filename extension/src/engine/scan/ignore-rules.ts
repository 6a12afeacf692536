import ignore, { type Ignore } from "ignore";
import { baseName, parentPath } from "../fs/types.ts";

/** Names never synced whatever the rules say: our own temporary files. */
export const TEMP_PREFIX = ".wsync-tmp-";

export const SYNCIGNORE = ".syncignore";
export const GITIGNORE = ".gitignore";
const MAX_ANSWERS = 500_000;

/**
 * Which paths are not synced: `.git` at any depth (conflicted copies inside `.git/refs` corrupt
 * repositories), our temporary files, the user's extra patterns, the root `.syncignore`, and every
 * `.gitignore` with git's meaning (patterns relative to its folder; deeper files override).
 */
export class IgnoreRules {
  private readonly levels = new Map<string, Ignore>();
  private readonly sources = new Map<string, { git?: string; sync?: string }>();
  /**
   * Answers for files and for folders, until the rules change: a sync round asks about every path
   * several times (scan, local and remote views), and matching against the rules is the costly part.
   * Paths come and go (build outputs with hashed names): past MAX_ANSWERS a map starts over.
   */
  private readonly answers = { file: new Map<string, boolean>(), folder: new Map<string, boolean>() };

  constructor(private readonly extraPatterns: readonly string[] = []) {
    this.rebuild("");
  }

  /** Sets (or clears, with null) the content of an ignore file; returns whether the rules changed. */
  setIgnoreFile(path: string, content: string | null): boolean {
    const name = baseName(path);
    const folder = parentPath(path);
    if (name !== GITIGNORE && !(name === SYNCIGNORE && folder === "")) return false;
    const source = this.sources.get(folder) ?? {};
    const key = name === GITIGNORE ? "git" : "sync";
    if ((source[key] ?? null) === content) return false;
    if (content === null) delete source[key];
    else source[key] = content;
    this.sources.set(folder, source);
    this.rebuild(folder);
    this.answers.file.clear();
    this.answers.folder.clear();
    return true;
  }

  static isIgnoreFile(path: string): boolean {
    const name = baseName(path);
    return name === GITIGNORE || path === SYNCIGNORE;
  }

  private rebuild(folder: string): void {
    const source = this.sources.get(folder) ?? {};
    const rules = ignore();
    if (folder === "") rules.add([...this.extraPatterns]);
    if (source.git) rules.add(source.git);
    if (folder === "" && source.sync) rules.add(source.sync);
    this.levels.set(folder, rules);
  }

  /** Whether an entry is ignored, assuming its folder is not (the walker never enters ignored folders). */
  ignoresEntry(path: string, isFolder: boolean): boolean {
    const name = baseName(path);
    if (name === ".git" || name.startsWith(TEMP_PREFIX)) return true;
    let ignored = false;
    // From the root down: a deeper .gitignore can ignore or re-include what a shallower one said.
    let folder: string | null = parentPath(path);
    const chain: string[] = [];
    while (folder !== null) {
      chain.push(folder);
      folder = folder === "" ? null : parentPath(folder);
    }
    for (const level of chain.reverse()) {
      const rules = this.levels.get(level);
      if (!rules) continue;
      const relative = level === "" ? path : path.slice(level.length + 1);
      const result = rules.test(isFolder ? `${relative}/` : relative);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  }

  /** Whether a path is ignored, itself or through any of its folders. */
  isIgnored(path: string, isFolder: boolean): boolean {
    if (path === "") return false;
    const answers = isFolder ? this.answers.folder : this.answers.file;
    const known = answers.get(path);
    if (known !== undefined) return known;
    const parent = parentPath(path);
    const ignored = (parent !== "" && this.isIgnored(parent, true)) || this.ignoresEntry(path, isFolder);
    if (answers.size >= MAX_ANSWERS) answers.clear();
    answers.set(path, ignored);
    return ignored;
  }
}
