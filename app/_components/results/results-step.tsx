'use client';
/**
 * The Results step: the predicted 3D mineral map over the scan in three linked slice panels
 * (label overlay with opacity and per-class toggles, uncertainty overlay), a 3D view of the
 * label volume, modal mineralogy (3D below the surface vs 2D EDS), depth profile, grey-value
 * histograms per class, the EDS map beside the predicted top slice, and every download.
 */
import { useMutation, useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import type { AppRouter } from '@/server/routers/_app';
import { formatDate, formatPct, formatSpacing } from '../format';
import { ClassHistograms, DepthProfile, ModalBars, type ClassInfo } from './charts';
import { OverlayPanel, type Overlay } from './overlay-panel';
import { guessLevelShapes, sliceUrl } from '../viewer/volume-info';
import { trainedOnText } from '../train/trained-on';
import type { SliceAxis, Vec3 } from '../viewer/slice-geometry';
import { QualityCard } from '../quality/quality-card';
import { ModalTable } from './modal-table';

const Label3D = dynamic(() => import('./label-3d').then((m) => m.Label3D), { ssr: false });

type State = inferRouterOutputs<AppRouter>['results']['state'];

export function ResultsStep({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  // the statistics are computed by a job after the prediction: poll while it runs
  const q = useQuery(trpc.results.state.queryOptions({ projectId }, { refetchInterval: (query) => (query.state.data?.stats.status === 'pending' ? 1000 : false) }));
  const kind = useQuery(trpc.projects.byId.queryOptions({ id: projectId })).data?.kind;
  if (q.isPending) return <p className="muted">Summarising the prediction…</p>;
  if (q.error) return <div className="error">Could not load the results: {q.error.message}</div>;
  const st = q.data;
  if (!st.prediction || !st.volume) {
    // a lithology project's map is predicted on Annotate, which this page does not show: say where it is
    // (a new user who had pressed Train and predict read "No prediction yet … on the Train step")
    if (kind === 'lithology') {
      return (
        <div className="card" data-testid="no-prediction">
          <h2>The lithology map</h2>
          <p>
            The lithology map painted and predicted on <Link href={`/projects/${projectId}/annotate`}>Annotate</Link> is shown there, on the slices, with its class
            shares and the proposed scan locations; <Link href={`/projects/${projectId}/multiscale`}>Multi-scale</Link> measures porosity per class and builds the
            composite model, with its downloads. This page shows a 3D map trained from an EDS map (Correlate, Train), for a sample that also has one.
          </p>
          <LithologyDownloads projectId={projectId} />
        </div>
      );
    }
    return (
      <div className="card" data-testid="no-prediction">
        <h2>No prediction yet</h2>
        <p>Train a model and click “Predict whole volume” on the <Link href={`/projects/${projectId}/train`}>Train step</Link>; the 3D mineral map, its statistics and the downloads appear here.</p>
      </div>
    );
  }
  return <Results st={st} projectId={projectId} onRetry={() => void q.refetch()} />;
}

/** The formats of the lithology map's download (server/pipeline/annotate-export.ts). */
const LITHOLOGY_DOWNLOADS = [
  ['nrrd', 'NRRD'], ['nifti', 'NIfTI'], ['tiff', 'TIFF stack'], ['ome-zarr', 'OME-Zarr (zip)'], ['ome-zarr-v2', 'OME-Zarr 0.4 / Zarr v2 (zip)'], ['csv', 'classes and shares (CSV)'],
] as const;

/**
 * A lithology project's map, predicted on Annotate: its class shares and its downloads (the class
 * volume for Avizo, Dragonfly or Fiji; before, it could be looked at on the slices only).
 */
function LithologyDownloads({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const pred = useQuery(trpc.annotate.state.queryOptions({ projectId })).data?.prediction;
  if (!pred) return <p className="muted small" data-testid="lithology-no-map">No lithology map is predicted yet: paint two or more classes on Annotate and press “Train and predict”.</p>;
  return (
    <div data-testid="lithology-downloads">
      <h3>Its shares and downloads</h3>
      <p className="small">
        Predicted {formatDate(pred.createdAt)}{pred.stale ? ' (strokes changed since: train and predict again on Annotate to update it)' : ''}:{' '}
        {pred.classes.map((c) => `${c.name} ${formatPct(pred.fractions[c.code] ?? 0)}`).join(' · ')} of the volume.
      </p>
      <ul className="downloads">
        {LITHOLOGY_DOWNLOADS.map(([format, label]) => (
          <li key={format}><a href={`/api/projects/${projectId}/annotations/export?format=${format}`} download data-testid={`dl-lithology-${format}`}>{format === 'csv' ? label : `Class map, ${label}`}</a></li>
        ))}
      </ul>
    </div>
  );
}

/** Progress of the statistics job, or its error with a button to try again. */
function StatsPending({ st, projectId, onRetry }: { st: State; projectId: string; onRetry: () => void }) {
  const trpc = useTRPC();
  const retry = useMutation(trpc.results.computeStats.mutationOptions({ onSuccess: onRetry }));
  const s = st.stats;
  if (s.status === 'failed') {
    return (
      <div className="card" data-testid="stats-failed">
        <p className="error">The statistics of the prediction could not be computed: {s.error}</p>
        <button type="button" onClick={() => retry.mutate({ projectId })} disabled={retry.isPending}>Try again</button>
      </div>
    );
  }
  const pct = s.status === 'pending' ? Math.round(100 * s.progress) : 0;
  return (
    <div className="card" data-testid="stats-pending">
      <p>Summarising the prediction (modal mineralogy, depth profile, histograms)…</p>
      <div className="train-job">
        <div className="progress" style={{ width: 220 }}><div style={{ width: `${pct}%` }} /></div>
        <span className="num small">{pct} %</span>
        {s.status === 'pending' && s.message && <span className="muted small">{s.message}</span>}
      </div>
    </div>
  );
}

function Results({ st, projectId, onRetry }: { st: State; projectId: string; onRetry: () => void }) {
  const vol = st.volume!;
  const pred = st.prediction!;
  const shape = vol.shape as Vec3;
  const spacing = vol.spacingUm as Vec3;
  const classes: ClassInfo[] = useMemo(() => pred.classes.map((c) => st.classes.find((k) => k.code === c) ?? { code: c, name: `class ${c}`, color: [128, 128, 128] }), [pred.classes, st.classes]);
  const [cursor, setCursor] = useState<Vec3>(() => [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), Math.floor(shape[2] / 2)]);
  const [showLabels, setShowLabels] = useState(true);
  const [showUnc, setShowUnc] = useState(false);
  const [opacity, setOpacity] = useState(0.55);
  const [hidden, setHidden] = useState<Set<number>>(new Set());
  const levelShapes = useMemo(() => guessLevelShapes(shape, vol.levels), [shape, vol.levels]);
  const hideParam = [...hidden].sort((a, b) => a - b).join(',');
  const sameLevels = pred.levels === vol.levels;
  const ovLevel = (axis: SliceAxis, index: number, level: number) => (sameLevels ? { index, level } : { index: cursor[axis === 'z' ? 0 : axis === 'y' ? 1 : 2], level: 0 });
  const overlays: Overlay[] = [
    { key: 'labels', visible: showLabels, opacity, url: (axis, index, level) => { const l = ovLevel(axis, index, level); return `/api/projects/${projectId}/labels?axis=${axis}&index=${l.index}&level=${l.level}&hide=${hideParam}&t=${pred.createdAt.getTime()}`; } },
    { key: 'uncertainty', visible: showUnc, opacity: 0.8, url: (axis, index, level) => { const l = ovLevel(axis, index, level); return `/api/projects/${projectId}/uncertainty?axis=${axis}&index=${l.index}&level=${l.level}&t=${pred.createdAt.getTime()}`; } },
  ];
  const onKey = (e: React.KeyboardEvent) => (e.key === 'o' ? (setShowLabels((s) => !s), true) : false);
  const toggle = (c: number) => setHidden((h) => { const n = new Set(h); if (n.has(c)) n.delete(c); else n.add(c); return n; });
  const panel = (axis: SliceAxis) => (
    <OverlayPanel axis={axis} shape={shape} spacing={spacing} cursor={cursor} onCursor={setCursor} levelShapes={levelShapes} height={280}
      sliceUrl={(a, index, level) => sliceUrl(vol.id, { axis: a, index, level, channel: 0, format: 'png' })} overlays={overlays} onKey={onKey} />
  );
  const topZ = Math.max(0, Math.min(shape[0] - 1, st.surfaceZ ?? 0));
  // two faces (issue 15 §1): each face's 2D EDS shares at its end of the depth profile
  const depthFaces = useMemo(() => {
    if (!st.modalFaces?.bottom) return null;
    const shares = (k: 'edsAreaPct' | 'edsBottomPct') => Object.fromEntries(st.modal.map((m) => [m.code, (m[k] ?? 0) / 100])) as Record<number, number>;
    return { top: { name: st.modalFaces.top, shares: shares('edsAreaPct'), depthUm: 0 }, bottom: { name: st.modalFaces.bottom, shares: shares('edsBottomPct'), depthUm: st.depth?.bottomFaceUm ?? null } };
  }, [st.modal, st.modalFaces, st.depth]);
  const ready = st.stats.status === 'ready';
  // what the model in use was trained on (its record; none without a model)
  const trained = st.validation ? trainedOnText(st.trainedOn, vol) : null;
  return (
    // "results-step" once the statistics are there (the page is complete), "results-summarising" before
    <div className="results-step" data-testid={ready ? 'results-step' : 'results-summarising'}>
      <p className="muted small">
        Prediction of {formatDate(pred.createdAt)} over {shape[2]} × {shape[1]} × {shape[0]} voxels{pred.upToDate ? '' : ' (made with an older model than the current one)'}.
        {st.validation && <> Held-out accuracy of the model {formatPct(st.validation.accuracy)}.</>}
        {trained && <> <span data-testid="model-trained-on">{trained.text}</span></>}
        {st.truthIoU && <> IoU vs the synthetic truth: {classes.map((c) => `${c.name} ${formatPct(st.truthIoU![c.code], 0)}`).join(', ')}.</>}
      </p>
      {trained?.other && <div className="notice small" data-testid="model-other-volume">{trained.other}</div>}
      <QualityCard q={st.quality} compact classes={classes} />
      <div className="viewer results-viewer">
        <div className="viewer-grid">
          {panel('z')}
          {panel('y')}
          {panel('x')}
          <div className="panel results-side">
            <div className="controls">
              <label><input type="checkbox" data-testid="toggle-labels" checked={showLabels} onChange={(e) => setShowLabels(e.target.checked)} /> classes (o)</label>
              <label>opacity <input type="range" min={0} max={1} step={0.05} value={opacity} data-testid="label-opacity" onChange={(e) => setOpacity(Number(e.target.value))} /></label>
              <label><input type="checkbox" data-testid="toggle-uncertainty" checked={showUnc} onChange={(e) => setShowUnc(e.target.checked)} /> uncertainty</label>
            </div>
            <ul className="legend results-legend" data-testid="class-toggles">
              {classes.map((c) => (
                <li key={c.code}>
                  <label>
                    <input type="checkbox" checked={!hidden.has(c.code)} onChange={() => toggle(c.code)} data-testid={`class-toggle-${c.code}`} />
                    <span className="swatch" style={{ background: `rgb(${c.color.join(',')})` }} /> {c.name}
                    {ready && <span className="muted num" title="share of the sample's volume (modal mineralogy)"> {st.modal.find((m) => m.code === c.code)?.volumePct.toFixed(1) ?? '–'} vol %</span>}
                  </label>
                </li>
              ))}
            </ul>
            <div className="info">Click: move the crosshair in all views · ←/→ PgUp/PgDn: step slices · o: overlay on/off{showUnc && <><br />uncertainty: transparent = sure, yellow → red = the two best classes are close</>}</div>
          </div>
        </div>
      </div>
      <div className="results-grid">
        <section className="card">
          <h3>3D view</h3>
          <Label3D url={`/api/projects/${projectId}/labels.nii?t=${pred.createdAt.getTime()}`} classes={classes} hidden={hidden} />
        </section>
        {!ready && <StatsPending st={st} projectId={projectId} onRetry={onRetry} />}
        {ready && <section className="card">
          <h3>Modal mineralogy</h3>
          <ModalBars rows={st.modal.map((m) => ({ ...classes.find((c) => c.code === m.code)!, volumePct: m.volumePct, edsAreaPct: m.edsAreaPct, edsBottomPct: m.edsBottomPct }))}
            faces={st.modalFaces} />
          <ModalTable rows={st.modal} edsApart={st.modalEdsApart} faces={st.modalFaces} />
        </section>}
        {ready && <section className="card">
          <h3>Depth profile</h3>
          {st.depth && <DepthProfile classes={classes} depthsUm={st.depth.depthsUm} fractions={st.depth.fractions} voxels={st.depth.voxels} faces={depthFaces} />}
          {depthFaces && (
            <p className="small muted" data-testid="depth-faces-note">
              The bars at the ends are each face&apos;s 2D EDS shares: <strong>top</strong> (left, at the top surface) from {st.modalFaces!.top ?? 'the top map'},{' '}
              <strong>bottom</strong> (right) from {st.modalFaces!.bottom}{st.depth?.bottomFaceUm != null ? <>, whose face lies {Math.round(st.depth.bottomFaceUm)} µm below the top surface (dashed line)</> : null}.
            </p>
          )}
        </section>}
        {ready && <section className="card">
          <h3>Grey values per class</h3>
          {st.histograms && <ClassHistograms classes={classes} lo={st.histograms.lo} hi={st.histograms.hi} counts={st.histograms.counts} />}
        </section>}
        <section className="card">
          <h3>EDS map and the predicted top slice</h3>
          <div className="eds-vs-pred">
            {st.eds && <figure><img src={`/api/datasets/${st.eds.id}/eds.png`} alt={`EDS map ${st.eds.name}`} data-testid="eds-image" /><figcaption className="small muted">EDS map {st.eds.name}</figcaption></figure>}
            <figure>
              <div className="stack-img">
                <img src={sliceUrl(vol.id, { axis: 'z', index: topZ, level: 0, channel: 0, format: 'png' })} alt="XRM slice below the surface" />
                <img src={`/api/projects/${projectId}/labels?axis=z&index=${topZ}&level=0&t=${pred.createdAt.getTime()}`} alt="predicted classes below the surface" data-testid="top-slice" />
              </div>
              <figcaption className="small muted">predicted classes, slice z = {topZ} (just below the surface; the EDS map keeps its own orientation)</figcaption>
            </figure>
          </div>
        </section>
        <section className="card">
          <h3>Downloads</h3>
          {pred.spacingAssumed && (
            <p className="small warn-text" data-testid="downloads-spacing-assumed">
              The voxel size of {vol.name}, {formatSpacing(spacing)}, was assumed at import: its file gave none. The downloads carry it, marked as assumed in each file
              (NRRD comment, NIfTI units “unknown”, TIFF unit “pixel” in Fiji, OME-Zarr petromap.spacingAssumed): lengths, areas and volumes measured in
              them rest on that guess, not on a measurement. To export micrometres, delete the volume on the Data step and upload it again with its voxel size.
            </p>
          )}
          <ul className="downloads" data-testid="downloads">
            {st.exports.map((e) => <li key={e.href}><a href={e.href} download data-testid={`dl-${e.what}-${e.format}`}>{e.label}</a></li>)}
          </ul>
        </section>
      </div>
    </div>
  );
}
