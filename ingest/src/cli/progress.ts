import { progressBar } from './format.js';

/**
 * The CLI's one progress bar (reconcile, reprice, export): redrawn in place on a terminal,
 * one line per tenth on anything else (logs, CI), so a job's progress is visible either way.
 * Always on stderr, so stdout stays the command's output.
 */
export class ProgressBar {
  private lastTenth = -1;
  private drawn = false;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number, step = ''): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    if (this.out.isTTY) {
      // At most ten redraws a second, and always the last one.
      const now = Date.now();
      if (ratio < 1 && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r${this.label} ${progressBar(done, total)} ${step}`.slice(0, 200).padEnd(100));
      this.drawn = true;
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${this.label}: ${Math.round(ratio * 100)}% (${done}/${total})${step ? ` ${step}` : ''}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
