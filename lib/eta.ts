/**
 * Time left of a long task from its progress rate, one rule for the CLI's progress bar and the
 * server's jobs: the rate is measured from the first progress report (a resumed task starts
 * part-way, and start-up time before the first report is not progress), and no estimate is given
 * before 2 % of the remaining work or 2 s have passed (too early to be worth reading).
 */

export interface ProgressPoint {
  /** ms since any fixed origin (Date.now()) */
  atMs: number;
  /** 0..1 */
  fraction: number;
}

/** Seconds left at `now`, from the rate since `first`; null while there is no sound estimate. */
export function etaSeconds(first: ProgressPoint, now: ProgressPoint): number | null {
  const elapsed = now.atMs - first.atMs;
  const doneSince = now.fraction - first.fraction;
  if (now.fraction >= 1) return 0;
  if (elapsed < 2000 || doneSince <= 0 || doneSince / (1 - first.fraction) < 0.02) return null;
  return (elapsed * (1 - now.fraction)) / doneSince / 1000;
}

/** "45 s", "3 min 10 s", "2 h 5 min" (whole units, never "0 s" for a positive time). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${seconds > 0 ? Math.max(1, s) : 0} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
