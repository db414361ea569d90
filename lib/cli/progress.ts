/** A one-line progress bar on stderr (only when stderr is a terminal, else a line per 10%). */
import type { OnProgress } from '../errors';

export function progressBar(label: string): OnProgress & { done(): void } {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  const f = ((fraction: number, message?: string) => {
    const p = Math.max(0, Math.min(1, fraction));
    if (tty) {
      const w = 28;
      const n = Math.round(p * w);
      process.stderr.write(`\r${label} [${'#'.repeat(n)}${' '.repeat(w - n)}] ${String(Math.round(p * 100)).padStart(3)}% ${(message ?? '').slice(0, 50).padEnd(50)}`);
    } else {
      const d = Math.floor(p * 10);
      if (d !== lastDecile) {
        lastDecile = d;
        process.stderr.write(`${label}: ${Math.round(p * 100)}% ${message ?? ''}\n`);
      }
    }
  }) as OnProgress & { done(): void };
  f.done = () => {
    if (tty) process.stderr.write('\n');
  };
  return f;
}
