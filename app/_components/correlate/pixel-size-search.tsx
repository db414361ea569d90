'use client';
/**
 * "Find the EDS pixel size" on the Correlate step: a wrong pixel size of the map (a binned export, a
 * typo, another magnification's calibration) makes Auto-register land far off, and the registration
 * doubtful. The search (server/pipeline/correlate-scale.ts, a job with progress and Cancel) tries the
 * map at 0.5–2 times its recorded pixel size and says at which one it matches the surface best;
 * "Register at X µm" registers at that size, starting from the pose the search found there. Shown
 * prominently beside a doubtful registration, as a secondary action otherwise.
 */
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import { formatUm } from '../format';
import { formatEta } from './overlay';
import type { CorrelateState } from './status-line';
import { jobEnded, useRegisterJob } from './use-register-job';
import type { Face } from './face-selector';

type Search = NonNullable<CorrelateState['pixelSizeSearch']>;
type Found = NonNullable<Search['result']>;

const pct = (f: number) => `${Math.round(100 * Math.abs(f - 1))} %`;

/** What the search found, in words: the best size beside the recorded one, and whether the recorded one holds. */
export function foundText(r: Found): string {
  const head = `The map matches the surface best at ${formatUm(r.pixelUm)} per pixel (given ${formatUm(r.givenPixelUm)})`;
  const skipped = r.skippedPixelUm.length
    ? ` Pixel sizes from ${formatUm(Math.min(...r.skippedPixelUm))} to ${formatUm(Math.max(...r.skippedPixelUm))} were not tried: the search there would need more memory than it may use.`
    : '';
  if (!r.distinct) {
    return `${head}, but at no pixel size does the map match distinctly (its best pose scores only ${r.distinctRatio.toFixed(2)} times the next different pose; a match scores 1.7 or more): ` +
      `the map may not show this face of this sample, or its pixel size lies outside ${formatUm(0.5 * r.givenPixelUm)}–${formatUm(2 * r.givenPixelUm)}. Place it with 3 landmark pairs.${skipped}`;
  }
  const there = r.skippedPixelUm.some((u) => Math.abs(u / r.givenPixelUm - 1) < 1e-9) ? 'the given size was not tried' : `the match at the given size scores ${Math.round(100 * r.scoreRatio)} % of the best`;
  if (r.plausible) {
    return `${head}: the map's pixel size is plausible (${pct(r.factor)} off; ${there}). Registering from the pose the search found may still place the map where Auto-register did not.${skipped}`;
  }
  return `${head}: the map's pixel size looks wrong (${pct(r.factor)} off; ${there}). Check the EDS export's pixel size (a binned export, the calibration of another magnification); ` +
    `if ${formatUm(r.pixelUm)} is right, register at it.${skipped}`;
}

export function PixelSizeSearch({ projectId, face, search, registration, doubtful, busy, onRegisterJob, onEnded }: {
  projectId: string;
  face: Face;
  search: CorrelateState['pixelSizeSearch'];
  registration: CorrelateState['registration'];
  doubtful: boolean;
  /** another Correlate job (Auto-register) runs */
  busy: boolean;
  /** the registration job "Register at X µm" started: the page follows it as it follows Auto-register */
  onRegisterJob: (jobId: string) => void;
  /** the search ended: the page reloads its state (which carries the result) */
  onEnded: () => void;
}) {
  const trpc = useTRPC();
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // a search still running when the page opens (or started in another tab) is followed too
  const active = search && !jobEnded(search.state) ? search.jobId : null;
  useEffect(() => { if (active) setJobId(active); }, [active]);
  const find = useMutation(trpc.correlate.findPixelSize.mutationOptions({ onSuccess: (r) => { setError(null); setJobId(r.jobId); }, onError: (e) => setError(e.message) }));
  const registerAt = useMutation(trpc.correlate.registerAtFoundSize.mutationOptions({ onSuccess: (r) => { setError(null); onRegisterJob(r.jobId); }, onError: (e) => setError(e.message) }));
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions());
  const job = useRegisterJob(jobId, () => { setJobId(null); onEnded(); });
  const running = !!jobId && !jobEnded(job?.state);
  const r = !running && search?.state === 'done' ? search.result : null;
  const ended = !running && search && search.state !== 'done' && jobEnded(search.state) ? search : null;
  const used = registration?.pixelSize;
  // the registration shown is the one at this search's size already: no second "Register at"
  const done = !!used && !!r && Math.abs(used.usedUm - r.pixelUm) < 1e-9 * r.pixelUm;

  return (
    <div className={`card small${doubtful ? ' notice' : ''}`} data-testid="pixel-size-search">
      <div className="row" style={{ alignItems: 'center', gap: '0.5rem', flexWrap: 'wrap' }}>
        <button className={doubtful && !r ? 'primary' : undefined} onClick={() => find.mutate({ projectId, face })} disabled={running || busy || find.isPending} data-testid="find-pixel-size"
          title="Tries the map at 0.5 to 2 times its pixel size (the automatic pose search at each) and says at which one it matches the surface best. Takes several times as long as Auto-register.">
          Find the EDS pixel size
        </button>
        {!running && !r && (
          <span className="muted">
            {doubtful ? 'A wrong pixel size of the map is the commonest cause of a registration like this: ' : 'If the map may have a wrong pixel size: '}
            finds the pixel size at which the map matches the surface best (several times as long as Auto-register).
          </span>
        )}
        {running && job && (
          <span className="job-progress" data-testid="pixel-size-progress">
            <span className="progress"><span style={{ width: `${Math.round(job.progress * 100)}%` }} /></span>
            <span className="num">{Math.round(job.progress * 100)} %</span>
            <span className="muted">ETA {formatEta(job.etaSeconds)}</span>
            <span className="muted msg">{job.message ?? (job.state === 'queued' ? 'waiting for another job' : '')}</span>
            <button onClick={() => cancel.mutate({ id: job.id })} data-testid="pixel-size-cancel">Cancel</button>
          </span>
        )}
        {running && !job && <span className="muted" data-testid="pixel-size-progress">starting…</span>}
      </div>
      {r && (
        <div className="row" style={{ marginTop: '0.4rem', alignItems: 'center', gap: '0.5rem', flexWrap: 'wrap' }}>
          <span className={r.distinct && !r.plausible && !done ? 'warn-text' : undefined} data-testid="pixel-size-result">{foundText(r)}</span>
          {r.distinct && !done && (
            <button className="primary" onClick={() => search && registerAt.mutate({ projectId, face, searchJobId: search.jobId })} disabled={busy || registerAt.isPending} data-testid="register-at-found"
              title="Registers the map at this pixel size, starting from the pose the search found there (its own pose search can land far off on a small map)">
              Register at {formatUm(r.pixelUm)}
            </button>
          )}
        </div>
      )}
      {ended && (
        <p className={ended.state === 'failed' ? 'error' : 'muted'} data-testid="pixel-size-ended">
          {ended.state === 'failed' ? `Finding the pixel size failed: ${ended.error ?? 'unknown error'}` : `Finding the pixel size was ${ended.state}.`}
        </p>
      )}
      {used && (
        <p className="muted" data-testid="registered-pixel-size">
          This registration used {formatUm(used.usedUm)} per EDS pixel, the size the search found; the map&apos;s recorded pixel size is {formatUm(used.givenUm)}{' '}
          (still shown on the map panel and used by landmark fits).
        </p>
      )}
      {error && <div className="error" data-testid="pixel-size-error">{error}</div>}
    </div>
  );
}
