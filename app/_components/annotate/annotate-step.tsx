'use client';
/**
 * Annotate step (lithology painting): classes editor, three orthogonal paint panels, tools
 * (brush, eraser, size, undo/redo, overlays), train + predict from the strokes, the predicted
 * lithology overlay, and scan-location proposals for a field of view (table, boxes on the
 * slices, CSV download). Deleting a class with strokes and proposing run as server jobs: their
 * progress shows here, and painting pauses while a deleted class's strokes are being erased.
 *
 * Keys (outside text fields): B brush, E eraser, N navigate, [ ] brush size, 1–9 class,
 * O overlays on/off, Ctrl+Z undo, Ctrl+Shift+Z (or Ctrl+Y) redo; in a focused panel
 * ←/→ ↑/↓ one slice, PgUp/PgDn ten.
 */
import Link from 'next/link';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import type { RouterOutputs } from '../api-types';
import { useRegisterJob } from '../correlate/use-register-job';
import type { SliceAxis, Vec3 } from '../viewer/slice-geometry';
import { useVolumeHistogram } from '../viewer/use-volume-histogram';
import { sliceUrl, type VolumeInfo } from '../viewer/volume-info';
import { ClassesEditor } from './classes-editor';
import { EditHistory, type Rgb, type SliceEdit } from './paint-ops';
import { PaintPanel, putSlice, type Tool } from './paint-panel';
import { ProposalsPanel, type ProposalsOut } from './proposals-panel';
import { formatDate, formatSpacing } from '../format';

type State = RouterOutputs['annotate']['state'];

export function AnnotateStep({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.annotate.state.queryOptions({ projectId }));
  if (q.isPending) return <p className="muted">Loading the annotation workspace…</p>;
  if (q.error) return <div className="error">Could not open the Annotate step: {q.error.message}</div>;
  if (!q.data.volume) {
    return (
      <div className="card" data-testid="annotate-no-volume">
        <h2>Annotate: no volume yet</h2>
        <p>Painting lithologies needs an XRM volume. <Link href={`/projects/${projectId}`}>Add one on the Data step.</Link></p>
      </div>
    );
  }
  return <Workspace projectId={projectId} state={q.data} volume={q.data.volume} />;
}

function Workspace({ projectId, state, volume }: { projectId: string; state: State; volume: NonNullable<State['volume']> }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = useCallback(() => qc.invalidateQueries({ queryKey: trpc.annotate.state.queryKey({ projectId }) }), [qc, trpc, projectId]);
  const shape = volume.shape as Vec3;
  const spacing = volume.spacingUm as Vec3;
  const info: VolumeInfo = useMemo(
    () => ({ datasetId: volume.id, name: volume.name, shape, spacing, dtype: volume.dtype, channels: volume.channels, levelShapes: volume.levelShapes as Vec3[] }),
    [volume], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const hist = useVolumeHistogram(info, 0);
  const [cursor, setCursor] = useState<Vec3>(() => [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), Math.floor(shape[2] / 2)]);
  const [tool, setTool] = useState<Tool>('brush');
  const [code, setCode] = useState<number>(state.classes[0]?.code ?? 0);
  const [radius, setRadius] = useState(2);
  const [showStrokes, setShowStrokes] = useState(true);
  const [showPrediction, setShowPrediction] = useState(true);
  const [strokesVersion, setStrokesVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [eraseJobId, setEraseJobId] = useState<string | null>(null);
  const [proposals, setProposals] = useState<ProposalsOut | null>(null);
  const history = useRef(new EditHistory(100));
  const [, setHistoryTick] = useState(0);

  const classes = state.classes;
  const colors = useMemo(() => new Map<number, Rgb>(classes.map((c) => [c.code, c.color as Rgb])), [classes]);
  useEffect(() => {
    if (!classes.some((c) => c.code === code) && classes[0]) setCode(classes[0].code);
  }, [classes, code]);

  const onError = (e: { message: string }) => setError(e.message);
  const addM = useMutation(trpc.annotate.addClass.mutationOptions({ onSuccess: (c) => { setCode(c.code); void refresh(); }, onError }));
  const updM = useMutation(trpc.annotate.updateClass.mutationOptions({ onSuccess: () => void refresh(), onError }));
  const delM = useMutation(trpc.annotate.deleteClass.mutationOptions({
    onSuccess: (r) => {
      // undo entries may hold the deleted class's code
      history.current.clear();
      setHistoryTick((t) => t + 1);
      setError(null);
      if (r.jobId) setEraseJobId(r.jobId);
      else setStrokesVersion((v) => v + 1);
      void refresh();
    },
    onError,
  }));
  // a class whose strokes are being erased (this page started it, or it was running when the page opened)
  const eraseJob = useRegisterJob(eraseJobId ?? state.erasing?.jobId ?? null, (j) => {
    if (j.state === 'failed') setError(`Erasing the strokes of the deleted class failed: ${j.error}`);
    setEraseJobId(null);
    setStrokesVersion((v) => v + 1);
    void refresh();
  });
  const erasing = eraseJob && !['done', 'failed', 'cancelled', 'interrupted'].includes(eraseJob.state)
    ? { name: state.erasing?.name ?? 'the deleted class', progress: eraseJob.progress }
    : null;
  const trainM = useMutation(trpc.annotate.train.mutationOptions({ onSuccess: (r) => { setError(null); setJobId(r.jobId); }, onError }));
  const cancelM = useMutation(trpc.jobs.cancel.mutationOptions());
  const job = useRegisterJob(jobId, (j) => {
    if (j.state === 'failed') setError(`Training failed: ${j.error}`);
    void refresh();
  });
  const training = !!job && !['done', 'failed', 'cancelled', 'interrupted'].includes(job.state);

  const greyUrl = useCallback(
    (axis: SliceAxis, index: number, level: number) =>
      sliceUrl(volume.id, { axis, index, level, channel: 0, format: 'png', min: hist.data?.p1, max: hist.data?.p99 }),
    [volume.id, hist.data?.p1, hist.data?.p99],
  );

  const onEdit = useCallback((e: SliceEdit) => {
    history.current.push(e);
    setHistoryTick((t) => t + 1);
    setStrokesVersion((v) => v + 1);
    setError(null);
    void refresh();
  }, [refresh]);

  const replay = useCallback(async (which: 'undo' | 'redo') => {
    const e = which === 'undo' ? history.current.undo() : history.current.redo();
    if (!e) return;
    try {
      await putSlice(projectId, e.axis, e.index, which === 'undo' ? e.after : e.before, which === 'undo' ? e.before : e.after);
      // show the edited slice
      setCursor((c) => { const n: Vec3 = [...c]; n[e.axis === 'z' ? 0 : e.axis === 'y' ? 1 : 2] = e.index; return n; });
    } catch (err) {
      // put the entry back where it was
      if (which === 'undo') history.current.redo(); else history.current.undo();
      setError((err as Error).message);
    }
    setHistoryTick((t) => t + 1);
    setStrokesVersion((v) => v + 1);
    void refresh();
  }, [projectId, refresh]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.tagName === 'INPUT' && (t as HTMLInputElement).type !== 'range' && (t as HTMLInputElement).type !== 'radio') return;
      if (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return;
      const k = e.key.toLowerCase();
      if ((e.ctrlKey || e.metaKey) && k === 'z') {
        e.preventDefault();
        void replay(e.shiftKey ? 'redo' : 'undo');
      } else if ((e.ctrlKey || e.metaKey) && k === 'y') {
        e.preventDefault();
        void replay('redo');
      } else if (e.ctrlKey || e.metaKey || e.altKey) {
        return;
      } else if (e.key === '[') setRadius((r) => Math.max(0, r - 1));
      else if (e.key === ']') setRadius((r) => Math.min(40, r + 1));
      else if (k === 'o') {
        const on = !(showStrokes || showPrediction);
        setShowStrokes(on);
        setShowPrediction(on);
      } else if (k === 'b') setTool('brush');
      else if (k === 'e') setTool('eraser');
      else if (k === 'n') setTool('navigate');
      else if (/^[1-9]$/.test(e.key) && classes[Number(e.key) - 1]) {
        setCode(classes[Number(e.key) - 1]!.code);
        setTool('brush');
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [replay, showStrokes, showPrediction, classes]);

  const pred = state.prediction;
  const predictionVersion = pred ? new Date(pred.createdAt).getTime() : null;
  const boxes = useMemo(
    () => (proposals?.proposals ?? []).map((p) => ({ box: p.box, color: colors.get(p.code) ?? [255, 255, 255] as Rgb, label: p.name })),
    [proposals, colors],
  );
  const strokesByCode = new Map(state.strokes.map((s) => [s.code, s.voxels]));
  const paintedClasses = state.strokes.filter((s) => s.voxels > 0).length;
  // what the scan proposals are computed from: the prediction, else the strokes; and the classes
  const proposalInputs = JSON.stringify([predictionVersion, pred ? null : state.updatedAt, classes.map((c) => [c.code, c.name])]);

  const panel = (axis: SliceAxis) => (
    <PaintPanel
      projectId={projectId} axis={axis} shape={shape} spacing={spacing} levelShapes={info.levelShapes} cursor={cursor} onCursor={setCursor}
      greyUrl={greyUrl} colors={colors} tool={erasing ? 'navigate' : tool} code={code} radius={radius} showStrokes={showStrokes}
      showPrediction={showPrediction} strokesVersion={strokesVersion} predictionVersion={predictionVersion} boxes={boxes}
      onEdit={onEdit} onError={setError}
    />
  );

  return (
    <div className="annotate" data-testid="annotate-step">
      <div className="page-head">
        <h2>Annotate</h2>
        <span className="muted small num">
          {volume.name} · {shape[2]} × {shape[1]} × {shape[0]} voxels of {formatSpacing(spacing)}{state.hasEds ? '' : ' · no EDS map needed'}
        </span>
      </div>
      {error && <div className="error" data-testid="annotate-error" onClick={() => setError(null)}>{error}</div>}
      {erasing && (
        <div className="info job-progress" data-testid="erase-progress">
          Erasing the strokes of “{erasing.name}”: painting is paused until it has finished.
          <span className="progress"><span style={{ width: `${(erasing.progress * 100).toFixed(0)}%` }} /></span>
          <span className="num">{(erasing.progress * 100).toFixed(0)} %</span>
        </div>
      )}
      <div className="annotate-layout">
        <div className="viewer">
          <div className="viewer-grid">
            {panel('z')}
            {panel('y')}
            {panel('x')}
            <div className="panel anno-tools" data-testid="paint-tools">
              <div className="controls">
                <strong>Tool</strong>
                {(['brush', 'eraser', 'navigate'] as const).map((t) => (
                  <button key={t} type="button" className={tool === t ? 'on' : undefined} aria-pressed={tool === t} data-testid={`tool-${t}`}
                    onClick={() => setTool(t)} title={`${t} (${t[0]!.toUpperCase()})`}>{t}</button>
                ))}
              </div>
              <div className="controls">
                <label>size <input type="range" min={0} max={40} value={radius} onChange={(e) => setRadius(Number(e.target.value))} aria-label="Brush radius" data-testid="brush-size" /></label>
                <span className="num" data-testid="brush-size-value">{2 * radius + 1} vox</span>
                <span>[ ]</span>
              </div>
              <div className="controls">
                <button type="button" onClick={() => void replay('undo')} disabled={!!erasing || !history.current.canUndo} data-testid="undo" title="Undo (Ctrl+Z)">Undo</button>
                <button type="button" onClick={() => void replay('redo')} disabled={!!erasing || !history.current.canRedo} data-testid="redo" title="Redo (Ctrl+Shift+Z)">Redo</button>
              </div>
              <div className="controls">
                <label><input type="checkbox" checked={showStrokes} onChange={(e) => setShowStrokes(e.target.checked)} data-testid="show-strokes" /> strokes</label>
                <label><input type="checkbox" checked={showPrediction} disabled={!pred} onChange={(e) => setShowPrediction(e.target.checked)} data-testid="show-prediction" /> predicted map</label>
                <span>(O)</span>
              </div>
              <div className="info">
                Left drag: paint · right drag: pan · wheel: zoom
                <br />
                Focused panel: ←/→ 1 slice, PgUp/PgDn 10 · 1–9 class
                <br />
                cursor x {cursor[2]} y {cursor[1]} z {cursor[0]} · ({((cursor[2] + 0.5) * spacing[2]).toFixed(1)}, {((cursor[1] + 0.5) * spacing[1]).toFixed(1)}, {((cursor[0] + 0.5) * spacing[0]).toFixed(1)}) µm
              </div>
            </div>
          </div>
        </div>
        <div className="annotate-side">
          <ClassesEditor
            classes={classes.map((c) => ({ code: c.code, name: c.name, color: c.color as Rgb, voxels: strokesByCode.get(c.code) ?? 0 }))}
            suggestions={state.suggestions.map((s) => ({ name: s.name, color: s.color as Rgb }))}
            active={code} onPick={(c) => { setCode(c); setTool('brush'); }}
            onAdd={(c) => addM.mutateAsync({ projectId, name: c.name, color: c.color }).catch(() => undefined)}
            onUpdate={(c, patch) => updM.mutateAsync({ projectId, code: c, ...patch }).catch(() => undefined)}
            onDelete={(c, erase) => delM.mutateAsync({ projectId, code: c, eraseStrokes: erase }).catch(() => undefined)}
            busy={addM.isPending || delM.isPending || !!erasing}
            erasing={erasing ? { code: state.erasing?.code ?? -1, progress: erasing.progress } : null}
          />
          <div className="anno-train" data-testid="train-box">
            <strong>Classifier</strong>
            <p className="info">
              Trains the voxel classifier of the Train step on the painted voxels ({paintedClasses} class{paintedClasses === 1 ? '' : 'es'} painted), then predicts every voxel.
            </p>
            <div className="controls">
              <button type="button" className="primary" data-testid="train-predict" disabled={training || trainM.isPending || paintedClasses < 2 || !!erasing}
                onClick={() => trainM.mutate({ projectId })} title={erasing ? 'Wait until the deleted class is erased' : paintedClasses < 2 ? 'Paint at least two classes first' : undefined}>
                Train and predict
              </button>
              {training && job && <button type="button" onClick={() => cancelM.mutate({ id: job.id })}>Cancel</button>}
            </div>
            {!training && paintedClasses < 2 && (
              <p className="info" data-testid="train-needs">
                Training needs strokes of at least two classes ({paintedClasses === 0 ? 'none painted yet' : 'one painted so far'}): pick a class above (or press its number), then left-drag on a slice.
              </p>
            )}
            {job && training && (
              <div data-testid="train-progress">
                <div className="progress"><div style={{ width: `${(job.progress * 100).toFixed(0)}%` }} /></div>
                <span className="info">{(job.progress * 100).toFixed(0)} % {job.message ?? ''}</span>
              </div>
            )}
            {pred && (
              <div className="info" data-testid="prediction-summary">
                Predicted {formatDate(pred.createdAt)}
                {pred.heldOutAccuracy !== null && <> · held-out strokes {(pred.heldOutAccuracy * 100).toFixed(1)} % right</>}
                {pred.stale && <span className="stale"> · strokes changed since: train again</span>}
                <ul className="fractions">
                  {pred.classes.map((c) => (
                    <li key={c.code}><span className="swatch" style={{ background: `rgb(${c.color.join(',')})` }} />{c.name} <span className="num">{((pred.fractions[c.code] ?? 0) * 100).toFixed(1)} %</span></li>
                  ))}
                </ul>
                {!pred.stale && (
                  <p data-testid="annotate-next">
                    Next: porosity per class from high-resolution interior scans on <Link href={`/projects/${projectId}/multiscale`}>Multi-scale →</Link> (the
                    scan locations below say where to take them); its composite model and downloads are there. This class map
                    downloads from <Link href={`/projects/${projectId}/results`} data-testid="annotate-map-downloads">Results</Link> (NRRD, NIfTI, TIFF, OME-Zarr, CSV).
                  </p>
                )}
              </div>
            )}
          </div>
          <ProposalsPanel projectId={projectId} spacing={spacing} shape={shape} source={pred ? 'prediction' : 'strokes'}
            initialFovUm={state.proposalsFovUm} inputsVersion={proposalInputs} disabledReason={erasing ? 'Wait until the deleted class is erased' : null}
            result={proposals} onResult={setProposals} onError={setError}
            onGoto={(b) => setCursor([b.start[0] + (b.shape[0] >> 1), b.start[1] + (b.shape[1] >> 1), b.start[2] + (b.shape[2] >> 1)])} colors={colors} />
        </div>
      </div>
      {proposals && proposals.proposals.length > 0 && <ProposalsTable result={proposals} colors={colors} />}
    </div>
  );
}

/** A unit in a table header (headers are upper-cased; µm must stay µm). */
const U = ({ children }: { children: string }) => <span style={{ textTransform: 'none' }}>{children}</span>;

function ProposalsTable({ result, colors }: { result: ProposalsOut; colors: Map<number, Rgb> }) {
  const classes = result.proposals[0]?.fractions.filter((f) => f.code > 0) ?? [];
  return (
    <div className="card anno-proposals" data-testid="proposals-table">
      <h2>Scan proposals ({result.source === 'prediction' ? 'on the predicted map' : 'on the painted strokes'})</h2>
      <table className="data">
        <thead>
          <tr>
            <th>class</th><th className="r">purity</th><th>start x, y, z <U>(vox)</U></th><th>size x × y × z <U>(vox)</U></th><th>centre x, y, z <U>(µm)</U></th><th>size <U>(µm)</U></th>
            {classes.map((c) => <th key={c.code} className="r">{c.name}</th>)}
            <th className="r">unlabelled</th>
          </tr>
        </thead>
        <tbody>
          {result.proposals.map((p) => {
            const f = new Map(p.fractions.map((x) => [x.code, x.fraction]));
            return (
              <tr key={p.code}>
                <td><span className="swatch" style={{ background: `rgb(${(colors.get(p.code) ?? [128, 128, 128]).join(',')})` }} />{p.name}</td>
                <td className="r num">{(p.purity * 100).toFixed(1)} %</td>
                <td className="num">{p.box.start[2]}, {p.box.start[1]}, {p.box.start[0]}</td>
                <td className="num">{p.box.shape[2]} × {p.box.shape[1]} × {p.box.shape[0]}</td>
                <td className="num">{p.centreUm[2].toFixed(1)}, {p.centreUm[1].toFixed(1)}, {p.centreUm[0].toFixed(1)}</td>
                <td className="num">{p.sizeUm[2].toFixed(0)} × {p.sizeUm[1].toFixed(0)} × {p.sizeUm[0].toFixed(0)}</td>
                {classes.map((c) => <td key={c.code} className="r num">{((f.get(c.code) ?? 0) * 100).toFixed(1)} %</td>)}
                <td className="r num">{((f.get(0) ?? 0) * 100).toFixed(1)} %</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {result.absent.length > 0 && <p className="muted small">Not present in the map: {result.absent.map((a) => a.name).join(', ')}.</p>}
      <p className="muted small">Class fractions per region are the input of an upscaled composite model: one high-resolution scan per class.</p>
    </div>
  );
}
