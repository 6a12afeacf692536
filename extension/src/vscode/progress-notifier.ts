import * as vscode from "vscode";
import { isLongTransfer, progressIncrement, progressMessage } from "./progress-model.ts";
import type { TransferTracker } from "./transfer-tracker.ts";

/**
 * A long transfer (many bytes or files) gets a progress notification with files, bytes and Cancel;
 * short ones only spin the status bar. One notification per pass.
 */
export class TransferProgressNotifier implements vscode.Disposable {
  private active:
    | { report: (value: { message: string; increment: number }) => void; reported: number; done: () => void }
    | undefined;

  constructor(
    private readonly tracker: TransferTracker,
    private readonly onCancel: () => void,
  ) {}

  update(): void {
    const progress = this.tracker.progress();
    if (!this.active) {
      if (!isLongTransfer(progress)) return;
      this.open();
    }
    const active = this.active;
    if (!active) return;
    const increment = progressIncrement(active.reported, progress);
    active.reported += increment;
    active.report({ message: progressMessage(progress), increment });
  }

  passEnded(): void {
    this.active?.done();
    this.active = undefined;
  }

  private open(): void {
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const holder = { report: (_: { message: string; increment: number }) => {}, reported: 0, done: finish };
    this.active = holder;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Workspace Sync", cancellable: true },
      (progress, token) => {
        holder.report = (value) => progress.report(value);
        token.onCancellationRequested(() => {
          this.onCancel();
          finish();
        });
        return finished;
      },
    );
  }

  dispose(): void {
    this.passEnded();
  }
}
