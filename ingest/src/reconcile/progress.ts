/**
 * A progress bar for long CLI jobs: redrawn in place on a terminal, one line per tenth on
 * anything else (logs, CI), so a job's progress is visible either way.
 */
export class ProgressBar {
  private lastTenth = -1;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream,
    private readonly width = 30,
  ) {}

  update(done: number, total: number, step: string): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const pct = Math.round(ratio * 100);
    if (this.out.isTTY) {
      const filled = Math.round(ratio * this.width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}`;
      this.out.write(
        `\r${this.label} ${bar} ${String(pct).padStart(3)}% ${done}/${total} ${step}`.slice(0, 200).padEnd(100),
      );
      this.drawn = true;
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${this.label}: ${pct}% (${done}/${total}) ${step}\n`);
    }
  }

  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
