/**
 * Files open with unsaved edits are not overwritten by a download: the user is asked first. This is the
 * decision logic, apart from VS Code (the adapter supplies `isDirty` and shows the question).
 *
 * A download about to replace a dirty file is deferred (it waits for a later sync round) and the user is
 * asked once: "Load" lets the next attempt through (the unsaved edits are first kept as a conflicted
 * copy by the adapter); "Keep editing" defers it until the document is saved or closed, after which
 * sync sees a local edit against a newer server version and keeps both, as with any conflict.
 */
export type GuardAnswer = "load" | "keep";

export class DirtyGuard {
  private readonly answers = new Map<string, GuardAnswer>();
  private readonly asking = new Set<string>();

  constructor(
    private readonly isDirty: (path: string) => boolean,
    /** Shows the question; must not block the caller. Answers come back through `answer()`. */
    private readonly ask: (path: string) => void,
  ) {}

  /** Whether a download may replace `path` now. */
  allows(path: string): boolean {
    const answer = this.answers.get(path);
    if (answer === "load") {
      this.answers.delete(path);
      return true;
    }
    if (!this.isDirty(path)) return true;
    if (answer === undefined && !this.asking.has(path)) {
      this.asking.add(path);
      this.ask(path);
    }
    return false;
  }

  answer(path: string, answer: GuardAnswer | undefined): void {
    this.asking.delete(path);
    // Dismissed without an answer: ask again at the next attempt.
    if (answer) this.answers.set(path, answer);
  }

  /** Saved or closed: the unsaved edits are on disk or gone, so the question no longer stands. */
  settled(path: string): void {
    if (this.answers.get(path) === "keep") this.answers.delete(path);
  }

  /** Paths waiting for an answer or kept by the user: sync of these is on hold. */
  held(): string[] {
    return [
      ...new Set([...this.asking, ...[...this.answers].filter(([, a]) => a === "keep").map(([p]) => p)]),
    ];
  }
}
