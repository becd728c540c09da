/**
 * A one-line progress bar on stderr, for long renders on a terminal.
 * Redraws only when the shown percentage changes.
 */
export class Progress {
  #shown = -1;
  constructor(private readonly label: string, private readonly total: number, private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(done: number): void {
    if (this.total <= 0) return;
    const pct = Math.min(100, Math.floor((done / this.total) * 100));
    if (pct === this.#shown) return;
    this.#shown = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}%`);
  }

  done(): void {
    if (this.#shown >= 0) this.out.write('\n');
  }
}
