'use client';
/**
 * The Multi-scale step of a lithology project: upload (or choose) high-resolution interior scans,
 * place each inside the large scan (click on the three views or use a scan proposal), register them
 * (quality: correlation, error estimate, the three orthogonal views and a checkerboard), look at the
 * pore/solid segmentation and adjust its threshold, then measure porosity per class and build the
 * composite model (slice viewer, table, charts, downloads). Jobs run on the server; this polls.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import { UploadZone } from '@/app/_components/upload/upload-zone';
import type { Vec3 } from '@/app/_components/viewer/slice-geometry';
import { CompositeViewer } from './composite-viewer';
import { InteriorCard } from './interior-card';
import { JobLine } from './job-line';
import { interiorBoxes, Placement } from './placement';
import { Result } from './result';

export function MultiscaleStep({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const q = useQuery(trpc.multiscale.state.queryOptions({ projectId }, {
    refetchInterval: (s) => (s.state.data && (s.state.data.upscaleJob?.active || s.state.data.interiors.some((i) => i.registerJob?.active || i.pores.job?.active)) ? 800 : false),
  }));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.multiscale.state.queryKey({ projectId }) });
  const opts = { onSuccess: () => { setError(null); void refresh(); }, onError: (e: { message: string }) => setError(e.message) };
  const place = useMutation(trpc.multiscale.place.mutationOptions({ ...opts, onSuccess: (_r, v) => { setError(null); setPicked(v.datasetId); void refresh(); } }));
  const remove = useMutation(trpc.multiscale.remove.mutationOptions(opts));
  const register = useMutation(trpc.multiscale.register.mutationOptions(opts));
  const threshold = useMutation(trpc.multiscale.threshold.mutationOptions(opts));
  const trainPores = useMutation(trpc.multiscale.trainPores.mutationOptions(opts));
  const usePores = useMutation(trpc.multiscale.usePores.mutationOptions(opts));
  const measure = useMutation(trpc.multiscale.measure.mutationOptions(opts));
  const s = q.data;
  if (q.error) return <p className="error">{q.error.message}</p>;
  if (!s) return <p className="muted">Loading…</p>;
  const lowUm = (s.scan?.meta as { spacingUm?: number[] } | null)?.spacingUm as Vec3 | undefined;
  const registered = s.interiors.filter((i) => i.registration && !i.stale).length;
  // the scan being placed: the one picked ('' = none), else the first one not placed yet
  const selectedId = picked ?? s.candidates.find((c) => !c.placed)?.id ?? '';
  const candidate = s.candidates.find((c) => c.id === selectedId);
  const current = s.interiors.find((i) => i.datasetId === selectedId);
  const busy = place.isPending || register.isPending || threshold.isPending || trainPores.isPending || usePores.isPending;
  return (
    <section className="multiscale" data-testid="multiscale-step">
      <h2>Multi-scale</h2>
      <p className="info">
        Place high-resolution interior scans inside the large scan, register them, segment them into pore and solid and measure each
        lithology class: porosity, pore size and the grey value → porosity calibration. Every voxel of the large scan then gets a porosity
        from its class and grey value (the composite model).
      </p>
      {error && <p className="error" role="alert" data-testid="ms-error">{error}</p>}
      {!s.scan && <p className="info">Import the large scan on the <Link href={`/projects/${projectId}`}>Data step</Link> first.</p>}
      {s.scan && !s.prediction && (
        <p className="info" data-testid="ms-no-prediction">There is no predicted lithology map yet: paint the classes and press “Train and predict” on the <Link href={`/projects/${projectId}/annotate`}>Annotate step</Link>.</p>
      )}
      <h3>Interior scans</h3>
      {s.scan && (
        <UploadZone projectId={projectId} kind="volume" title="Upload a high-resolution interior scan" onUploaded={() => { setPicked(null); void refresh(); }}
          hint={`A scan of part of the sample with smaller voxels than the large scan (${lowUm ? `${lowUm[2]} µm` : ''}): multi-page TIFF, NRRD, MHA, NIfTI, Zeiss .txm, a .zip of TIFF slices or of an .mhd with its .raw. It must state its voxel size.`}
          accept=".tif,.tiff,.nrrd,.mha,.nii,.gz,.txm,.zip" />
      )}
      {s.candidates.length === 0 && <p className="info" data-testid="ms-no-candidates">No interior scan yet: upload one above (or on the Data step).</p>}
      {s.candidates.length > 0 && (
        <table className="table" data-testid="ms-scan-list">
          <thead><tr><th>interior scan</th><th>voxels</th><th>voxel size</th><th>state</th><th /></tr></thead>
          <tbody>
            {s.candidates.map((c) => {
              const it = s.interiors.find((i) => i.datasetId === c.id);
              const state = !it ? 'not placed' : it.registerJob?.active ? 'registering…' : it.registerJob?.state === 'failed' ? 'registration failed'
                : it.registration && !it.stale ? `registered (error estimate ${it.registration.quality.errorEstimateVox?.toFixed(2) ?? '—'} voxels)` : 'placed, not registered';
              return (
                <tr key={c.id} data-testid="ms-scan-row">
                  <td>{c.name}</td>
                  <td className="num">{c.shape?.join(' × ') ?? '—'}</td>
                  <td className="num">{c.spacingUm ? `${c.spacingUm[2]} µm` : '—'}</td>
                  <td>{state}</td>
                  <td><button type="button" disabled={c.id === selectedId} data-testid="ms-pick" onClick={() => setPicked(c.id)}>{it ? 'Move' : 'Place'}</button></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {s.scan && candidate && (
        <Placement key={candidate.id} s={s} candidate={candidate} current={current ? { centre: current.start.centre as Vec3, angleDeg: current.start.angleDeg } : null} busy={busy}
          onPlace={(centre, angleDeg) => place.mutate({ projectId, datasetId: candidate.id, centre, angleDeg })} />
      )}
      {s.interiors.map((it) => (
        <InteriorCard key={it.datasetId} projectId={projectId} it={it} selected={it.datasetId === selectedId} busy={busy}
          onSelect={() => setPicked(it.datasetId)}
          onRegister={() => register.mutate({ projectId, datasetId: it.datasetId })}
          onRemove={() => remove.mutate({ projectId, datasetId: it.datasetId })}
          onThreshold={(t) => threshold.mutate({ projectId, datasetId: it.datasetId, threshold: t })}
          onStrokesSaved={() => void refresh()} onError={setError}
          onTrainPores={() => trainPores.mutate({ projectId, datasetId: it.datasetId })}
          onUsePores={(use) => usePores.mutate({ projectId, datasetId: it.datasetId, use })} />
      ))}
      <h3>Measure and build the composite model</h3>
      <div className="controls">
        <button type="button" className="primary" data-testid="ms-measure" disabled={!s.prediction || registered === 0 || !!s.upscaleJob?.active}
          title={!s.prediction ? 'Predict the lithology map first' : registered === 0 ? 'Register an interior scan first' : undefined}
          onClick={() => measure.mutate({ projectId })}>{s.upscaleJob?.active ? 'Measuring…' : 'Measure and build the composite model'}</button>
      </div>
      {(!s.prediction || registered === 0) && !s.upscaleJob?.active && (
        <p className="info" data-testid="ms-measure-needs">
          Measuring needs {[!s.prediction && 'the predicted lithology map (Annotate: Train and predict)', registered === 0 && 'at least one registered interior scan (place it, then Register)'].filter(Boolean).join(' and ')}.
        </p>
      )}
      <JobLine job={s.upscaleJob} what="measure" failed="Measuring failed" />
      {s.result && s.scan && lowUm && <CompositeViewer projectId={projectId} s={s} r={s.result} boxes={interiorBoxes(s, lowUm)} />}
      {s.result && <Result projectId={projectId} r={s.result} classes={s.prediction?.classes ?? []} />}
    </section>
  );
}
