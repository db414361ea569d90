/** A one-line progress bar on stderr (only when stderr is a terminal, else a line per 10%). */
import type { OnProgress } from '../errors';
import { etaSeconds, formatDuration } from '../eta';

export function progressBar(label: string): OnProgress & { done(): void } {
  const tty = process.stderr.isTTY;
  let lastDecile = -1;
  let t0 = 0, f0 = 0;
  const f = ((fraction: number, msg?: string) => {
    const p = Math.max(0, Math.min(1, fraction));
    // ETA from the progress made since the first report (a resumed run starts part-way)
    if (!t0) { t0 = Date.now(); f0 = p; }
    const left = p < 1 ? etaSeconds({ atMs: t0, fraction: f0 }, { atMs: Date.now(), fraction: p }) : null;
    const eta = left === null ? '' : `${formatDuration(left)} left`;
    const message = eta ? `${msg ?? ''} (${eta})` : msg;
    if (tty) {
      const w = 28;
      const n = Math.round(p * w);
      process.stderr.write(`\r${label} [${'#'.repeat(n)}${' '.repeat(w - n)}] ${String(Math.round(p * 100)).padStart(3)}% ${(message ?? '').slice(0, 64).padEnd(64)}`);
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
