'use client';
/**
 * The Train step: which minerals become which classes, which filters at which scales the voxel
 * classifier sees (with the time it will take), training with live loss/accuracy curves, the
 * held-out validation (confusion matrix, per-class metrics), the model previewed on the slice in
 * view, and the whole-volume prediction.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { inferRouterOutputs } from '@trpc/server';
import { useTRPC } from '@/app/_trpc/client';
import type { AppRouter } from '@/server/routers/_app';
import { formatBytes, formatDate, formatPct } from '../format';
import { byArea } from '../correlate/by-area';
import { ClassSelect } from '../correlate/class-select';
import { jobEnded, useRegisterJob } from '../correlate/use-register-job';
import { ConfusionMatrix, TrainingCurves, type ClassInfo } from '../results/charts';
import { OverlayPanel } from '../results/overlay-panel';
import { guessLevelShapes, sliceUrl } from '../viewer/volume-info';
import type { Vec3 } from '../viewer/slice-geometry';
import { QualityCard } from '../quality/quality-card';
import { OneClassWarning } from './one-class-warning';
import { ThinClassesWarning } from './thin-classes-warning';
import { TrainedOn } from './trained-on';

type Spec = { filter: string; sigmaUm: number };
/** the server's bound on epochs (server/routers/bounds MAX_EPOCHS) */
const MAX_EPOCHS_UI = 100;
const key = (s: Spec) => `${s.filter}@${s.filter === 'intensity' ? 0 : +s.sigmaUm.toFixed(4)}`;

export function formatSeconds(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s)) return '–';
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function JobBar({ job, label, onCancel }: { job: { state: string; progress: number; message: string | null; error: string | null; etaSeconds?: number | null } | null; label: string; onCancel: () => void }) {
  if (!job) return null;
  const running = !jobEnded(job.state);
  return (
    <div className="train-job" data-testid={`job-${label}`} data-state={job.state}>
      {running ? (
        <>
          <div className="progress" style={{ width: 220 }}><div style={{ width: `${Math.round(job.progress * 100)}%` }} /></div>
          <span className="num small">{Math.round(job.progress * 100)} %</span>
          {job.etaSeconds != null && <span className="muted small">about {formatSeconds(job.etaSeconds)} left</span>}
          <span className="muted small" data-testid={`job-${label}-message`}>
            {job.state === 'queued' ? <>waiting for the job before it to finish (one heavy job at a time: <Link href="/jobs">Jobs</Link>)</> : job.message ?? 'starting…'}
          </span>
          <button type="button" onClick={onCancel}>Cancel</button>
        </>
      ) : job.state === 'failed' ? (
        <span className="error small">{label} failed: {job.error}</span>
      ) : job.state === 'done' ? null : (
        <span className="muted small">{label} {job.state}</span>
      )}
    </div>
  );
}

export function TrainStep({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [trainJobId, setTrainJobId] = useState<string | null>(null);
  const [predictJobId, setPredictJobId] = useState<string | null>(null);
  // polled while a job runs, and while the label counts / throughput are being computed (train-prepare job)
  const stateQ = useQuery(trpc.train.state.queryOptions({ projectId }, {
    refetchInterval: (q) => (trainJobId || predictJobId || q.state.data?.labelCountsStatus === 'pending' || (q.state.data?.estimate && !Number.isFinite(q.state.data.estimate.seconds)) ? 1000 : false),
  }));
  const st = stateQ.data;
  // the EDS legend's areas: the minerals are listed largest first, as on Correlate
  const datasets = useQuery({ ...trpc.datasets.list.queryOptions({ projectId }), enabled: !!st?.eds });
  const legend = datasets.data?.find((d) => st?.eds && String(d.id) === String(st.eds.id))?.eds?.legend;
  const refresh = useCallback(() => qc.invalidateQueries({ queryKey: trpc.train.state.queryKey({ projectId }) }), [qc, trpc, projectId]);
  const [error, setError] = useState<string | null>(null);
  // empty: the training stage's default (the same as `petromap train`)
  const [epochs, setEpochs] = useState<number | ''>('');

  // resume following jobs that are still running when the page opens
  useEffect(() => {
    if (!st) return;
    if (!trainJobId && st.trainJob && !jobEnded(st.trainJob.state)) setTrainJobId(st.trainJob.id);
    if (!predictJobId && st.predictJob && !jobEnded(st.predictJob.state)) setPredictJobId(st.predictJob.id);
  }, [st]); // eslint-disable-line react-hooks/exhaustive-deps

  const trainJob = useRegisterJob(trainJobId, () => { refresh(); });
  const predictJob = useRegisterJob(predictJobId, () => { refresh(); });
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions());
  const setFs = useMutation(trpc.train.setFeatureSet.mutationOptions({ onSuccess: () => refresh(), onError: (e) => setError(e.message) }));
  const start = useMutation(trpc.train.start.mutationOptions({ onSuccess: (r) => { setError(null); setTrainJobId(r.jobId); }, onError: (e) => setError(e.message) }));
  const predict = useMutation(trpc.train.predict.mutationOptions({ onSuccess: (r) => { setError(null); setPredictJobId(r.jobId); }, onError: (e) => setError(e.message) }));
  const setColor = useMutation(trpc.train.setClassColor.mutationOptions({ onSuccess: () => refresh(), onError: (e) => setError(e.message) }));
  const setClassMap = useMutation(trpc.correlate.setClassMap.mutationOptions({ onSuccess: () => refresh(), onError: (e) => setError(e.message) }));

  if (stateQ.isPending) return <p className="muted">Loading the Train step…</p>;
  if (stateQ.error) return <div className="error">Could not load the Train step: {stateQ.error.message}</div>;
  if (!st) return null;
  const training = !!trainJob && !jobEnded(trainJob.state);
  // the box takes any number: say what it accepts before the server refuses it
  const epochsOk = epochs === '' || (Number.isInteger(epochs) && epochs >= 1 && epochs <= MAX_EPOCHS_UI);
  const predicting = !!predictJob && !jobEnded(predictJob.state);

  return (
    <div className="train-step" data-testid="train-step">
      {!st.registrationAccepted && (
        <div className="notice" data-testid="need-registration">
          The EDS labels reach the voxels through the registration: <Link href={`/projects/${projectId}/correlate`}>accept a registration on the Correlate step first</Link>.
        </div>
      )}
      {error && <div className="error" data-testid="train-error">{error}</div>}
      <div className="train-grid">
        <section className="card">
          <h3>Minerals → classes</h3>
          <ClassTable st={st} legend={legend} busy={setClassMap.isPending || training}
            onChange={(phaseId, classCode) => setClassMap.mutate({ projectId, mapping: [{ phaseId, classCode }] })}
            onColor={(code, color) => setColor.mutate({ projectId, code, color })} />
        </section>
        <section className="card">
          <h3>Features</h3>
          <FeaturePicker st={st} busy={setFs.isPending || training} onChange={(specs) => setFs.mutate({ projectId, specs: specs as never })} />
        </section>
        <section className="card train-run">
          <h3>Train</h3>
          {st.registrationAccepted && (
            <p className="small muted" data-testid="train-faces">
              {st.trainFaces.includes('bottom')
                ? <>Labels from <strong>both polished faces</strong>: the top face&apos;s map {st.eds?.name} and the bottom face&apos;s map {st.bottomEds?.name} (each with its own held-out tiles).</>
                : <>Labels from the top face&apos;s map {st.eds?.name}. A map of the bottom face adds labels once its registration is accepted (<Link href={`/projects/${projectId}/correlate?face=bottom`}>Correlate, bottom face</Link>).</>}
            </p>
          )}
          <div className="form-inline">
            <label>epochs (max) <input type="number" min={1} max={MAX_EPOCHS_UI} step={1} value={epochs} placeholder="default" data-testid="train-epochs"
              onChange={(e) => setEpochs(e.target.value === '' ? '' : Number(e.target.value))} style={{ width: '7.5em' }} /></label>
            <button type="button" className="primary" data-testid="train-button" disabled={!st.registrationAccepted || training || start.isPending || !epochsOk}
              onClick={() => start.mutate({ projectId, epochs: epochs === '' ? undefined : epochs })}>
              {st.model ? 'Train again' : 'Train'}
            </button>
          </div>
          {!epochsOk && <p className="error small" data-testid="epochs-error">Epochs: a whole number from 1 to {MAX_EPOCHS_UI}, or empty for the default (training stops early when the held-out loss stops improving).</p>}
          {st.labelCountsStatus === 'ready' && <OneClassWarning counts={st.labelCounts} projectId={projectId} />}
          {st.labelCountsStatus === 'ready' && <ThinClassesWarning counts={st.labelCounts} classes={st.classes} />}
          <JobBar job={trainJob} label="Training" onCancel={() => trainJobId && cancel.mutate({ id: trainJobId })} />
          <LiveCurves st={st} training={training} />
          {st.model && (
            <p className="muted small" data-testid="model-summary">
              Model of {formatDate(st.model.createdAt)}: {st.model.features.length} features, hidden layers {st.model.hidden.join('×')}, best epoch {st.model.bestEpoch + 1},
              trained in {formatSeconds(st.model.trainSeconds)} on the labels of {st.model.faces.length > 1 ? 'the top and the bottom face' : 'the top face'}; held-out accuracy of this model (the best epoch&apos;s after weighting towards the EDS map&apos;s mineral shares, measured again on the held-out tiles as in the table below; the curve&apos;s legend gives each epoch&apos;s network before that weighting) <strong data-testid="accuracy">{formatPct(st.model.validation.accuracy)}</strong>.
              {' '}The training loss is taken with dropout and weight decay on, so it runs above the held-out loss.
            </p>
          )}
          {st.model && <TrainedOn on={st.model.trainedOn} current={st.volume} />}
        </section>
      </div>
      {st.model && <Validation st={st} />}
      {st.model && <QualityCard q={st.model.quality} classes={st.classes} />}
      {st.volume && st.model && <Preview st={st} projectId={projectId}
        busy={predictJob?.state === 'running' ? { what: 'whole-volume prediction', ...predictJob } : trainJob?.state === 'running' ? { what: 'training', ...trainJob } : null} />}
      <section className="card">
        <h3>Predict the whole volume</h3>
        <div className="form-inline">
          <button type="button" className="primary" data-testid="predict-button" disabled={!st.model || predicting || training || predict.isPending}
            onClick={() => predict.mutate({ projectId })}>
            Predict whole volume
          </button>
          {st.estimate && <span className="muted small" data-testid="predict-estimate">{Number.isFinite(st.estimate.seconds) ? `about ${formatSeconds(st.estimate.seconds / Math.max(1, st.estimate.threads))} of feature computation on ${st.estimate.threads} threads (longer while the machine is busy) for` : 'time not known yet (measuring this machine\u2019s speed) for'} {(st.estimate.voxels / 1e6).toFixed(1)} M voxels</span>}
          {st.prediction && !predicting && (
            <span className="small" data-testid="prediction-status">
              Prediction of {formatDate(st.prediction.createdAt)} ({formatSeconds(st.prediction.seconds)}){st.prediction.upToDate ? '' : ' — made with an older model'}.{' '}
              <Link href={`/projects/${projectId}/results`}>See the results →</Link>
            </span>
          )}
        </div>
        <JobBar job={predictJob} label="Prediction" onCancel={() => predictJobId && cancel.mutate({ id: predictJobId })} />
      </section>
    </div>
  );
}

type State = inferRouterOutputs<AppRouter>['train']['state'];

const hex = (c: readonly number[]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];

function ClassTable({ st, legend, busy, onChange, onColor }: { st: State; legend: Parameters<typeof byArea>[1]; busy: boolean; onChange: (phaseId: number, classCode: number | null) => void; onColor: (code: number, color: [number, number, number]) => void }) {
  const counts = new Map(st.labelCounts.map((c) => [c.code, c.voxels]));
  return (
    <>
      <table className="class-map" data-testid="train-class-map">
        <thead><tr><th colSpan={2}>Mineral</th><th>Class</th></tr></thead>
        <tbody>
          {byArea(st.classMap, legend).map((m) => (
            <tr key={m.phaseId}>
              <td><span className="swatch" style={{ background: `rgb(${m.color.join(',')})` }} /></td>
              <td>{m.name}</td>
              <td>
                <ClassSelect name={m.name} value={m.classCode} classes={st.classes} disabled={busy} onChange={(c) => onChange(m.phaseId, c)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="class-map" style={{ marginTop: '0.5rem' }} data-testid="label-counts">
        <thead><tr><th colSpan={2}>Class</th><th className="r">labelled voxels</th></tr></thead>
        <tbody>
          {st.classes.map((c) => (
            <tr key={c.code}>
              <td><input type="color" className="color-pick" value={hex(c.color)} aria-label={`Colour of ${c.name}`} data-testid={`class-color-${c.code}`}
                onChange={(e) => onColor(c.code, fromHex(e.target.value))} /></td>
              <td>{c.name}</td>
              <td className="r num">{st.labelCountsStatus === 'ready' ? (counts.get(c.code) ?? 0).toLocaleString('en') : st.labelCountsStatus === 'pending' ? '…' : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {st.labelCountsStatus === 'pending' && <p className="muted small" data-testid="label-counts-pending">Counting the voxels the EDS map labels…</p>}
      {st.labelCountsStatus === 'failed' && <p className="error small" data-testid="label-counts-error">Could not count the labelled voxels: {st.labelCountsError}</p>}
      {st.labelCountsStatus === 'ready' && st.boundaryVoxels > 0 && (
        <p className="muted small" data-testid="boundary-voxels">
          Also {st.boundaryVoxels.toLocaleString('en')} voxels on mineral boundaries, where the map cannot say which side a voxel lies on: they train
          towards the classes around them (soft labels), never as held-out truth.
        </p>
      )}
      <p className="muted small">Several minerals may share a class (merge); “— drop” leaves a mineral out of training. Click a colour to change it.</p>
    </>
  );
}

function FeaturePicker({ st, busy, onChange }: { st: State; busy: boolean; onChange: (specs: Spec[]) => void }) {
  const chosen = useMemo(() => new Set(st.featureSet.specs.map(key)), [st.featureSet]);
  const toggle = (s: Spec) => {
    const k = key(s);
    const next = chosen.has(k) ? st.featureSet.specs.filter((x) => key(x) !== k) : [...st.featureSet.specs, s];
    if (next.length) onChange(next);
  };
  // scales offered: the default ones plus any the set already uses
  const scales = [...new Set([...st.scalesUm, ...st.featureSet.specs.filter((s) => s.filter !== 'intensity').map((s) => +s.sigmaUm.toFixed(4))])].sort((a, b) => a - b);
  const est = st.estimate;
  return (
    <div data-testid="feature-picker">
      <div className="form-inline small">
        <label><input type="checkbox" checked={chosen.has('intensity@0')} disabled={busy} onChange={() => toggle({ filter: 'intensity', sigmaUm: 0 })} /> raw grey value</label>
        <span className="muted">presets:</span>
        {st.presets.map((p) => (
          <button key={p.key} type="button" disabled={busy} data-testid={`preset-${p.key}`} onClick={() => onChange(p.specs)}>
            {p.label}{p.key === 'classifier' ? ` (${p.specs.reduce((a, x) => a + (x.filter === 'hessianEigen' || x.filter === 'structureTensorEigen' ? 3 : 1), 0)})` : ''}
          </button>
        ))}
      </div>
      <table className="feature-grid">
        <thead>
          <tr><th>filter \ scale (µm)</th>{scales.map((s) => <th key={s} className="num">{s}</th>)}</tr>
        </thead>
        <tbody>
          {st.filters.map((f) => (
            <tr key={f.filter}>
              <td title={f.label}>{f.label}{f.components > 1 ? ` (${f.components})` : ''}</td>
              {scales.map((s) => {
                const spec = { filter: f.filter, sigmaUm: s };
                return (
                  <td key={s}>
                    <input type="checkbox" aria-label={`${f.label} at ${s} µm`} data-testid={`feat-${f.filter}-${s}`} checked={chosen.has(key(spec))} disabled={busy} onChange={() => toggle(spec)} />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {est && (
        <p className="small" data-testid="feature-estimate">
          <strong>{est.nFeatures}</strong> features per voxel · whole volume {Number.isFinite(est.seconds) ? <>≈ <strong>{formatSeconds(est.seconds / Math.max(1, est.threads))}</strong> of filtering on {est.threads} threads</> : <span className="muted">(time: measuring this machine&apos;s speed…)</span>} · memory ≈ {formatBytes(est.memoryBytes)} ({est.brick.join('×')} bricks on {est.threads} threads, halo {est.haloVox.join('/')} voxels)
        </p>
      )}
    </div>
  );
}

function LiveCurves({ st, training }: { st: State; training: boolean }) {
  const live = st.liveHistory;
  const hist = training && live ? live.epochs : (st.model?.history ?? live?.epochs ?? []);
  if (!hist.length) return <p className="muted small">Loss and held-out accuracy appear here epoch by epoch.</p>;
  return <TrainingCurves history={hist} maxEpochs={(training ? live?.maxEpochs : null) ?? hist.length} bestEpoch={training ? undefined : st.model?.bestEpoch} />;
}

function Validation({ st }: { st: State }) {
  const v = st.model!.validation;
  const cls: ClassInfo[] = v.classes.map((c) => st.classes.find((k) => k.code === c) ?? { code: c, name: `class ${c}`, color: [128, 128, 128] });
  return (
    <section className="card">
      <h3>Held-out validation <span className="muted small">(surface tiles the model never saw)</span></h3>
      <div className="row">
        <ConfusionMatrix classes={cls} confusion={v.confusion} />
        <table className="metrics" data-testid="metrics-table">
          <thead><tr><th colSpan={2}>Class</th><th className="r">precision</th><th className="r">recall</th><th className="r">F1</th><th className="r">IoU</th><th className="r" title="held-out voxels of this class (the truth the row is measured on)">support (voxels)</th></tr></thead>
          <tbody>
            {v.perClass.map((m, i) => (
              <tr key={m.class}>
                <td><span className="swatch" style={{ background: `rgb(${cls[i]!.color.join(',')})` }} /></td>
                <td>{cls[i]!.name}</td>
                <td className="r num">{formatPct(m.precision)}</td>
                <td className="r num">{formatPct(m.recall)}</td>
                <td className="r num">{formatPct(m.f1)}</td>
                <td className="r num">{formatPct(m.iou)}</td>
                <td className="r num">{m.support}</td>
              </tr>
            ))}
            <tr><td /><td><strong>all</strong></td><td colSpan={2} /><td className="r num"><strong>{formatPct(v.accuracy)}</strong></td><td className="r num">{formatPct(v.meanIoU)}</td><td className="r num">{v.perClass.reduce((a, m) => a + m.support, 0)}</td></tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** A heavy job of this project that runs meanwhile (it takes the cores the preview needs). */
type Busy = { what: string; progress: number; message: string | null } | null;

function Preview({ st, projectId, busy }: { st: State; projectId: string; busy: Busy }) {
  const vol = st.volume!;
  const shape = vol.shape as Vec3;
  const [cursor, setCursor] = useState<Vec3>(() => [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2), Math.floor(shape[2] / 2)]);
  const [show, setShow] = useState(true);
  const [opacity, setOpacity] = useState(0.6);
  const levelShapes = useMemo(() => guessLevelShapes(shape, vol.levels), [shape, vol.levels]);
  const modelAt = st.model ? new Date(st.model.createdAt).getTime() : 0;
  const pct = busy ? `${Math.round(busy.progress * 100)} %` : '';
  // short: the panel's corner (the notice above says why it is slow)
  const loadingText = busy ? `computing preview… (${busy.what === 'training' ? 'training' : 'prediction'} at ${pct})` : 'computing preview…';
  const overlays = [{ key: 'preview', visible: show, opacity, exact: true, url: (axis: string, index: number, level: number) => `/api/projects/${projectId}/preview.png?axis=${axis}&index=${index}&level=${level}&m=${modelAt}` }];
  return (
    <section className="card" data-testid="preview">
      <h3>Preview of the model on this slice</h3>
      <div className="form-inline small">
        <label><input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} /> show prediction (o)</label>
        <label>opacity <input type="range" min={0} max={1} step={0.05} value={opacity} onChange={(e) => setOpacity(Number(e.target.value))} /></label>
        <span className="muted">Features of this slice (with their halo) go through the model; step slices with ←/→, PgUp/PgDn.</span>
      </div>
      {busy && (
        <p className="notice small" data-testid="preview-wait">
          The {busy.what} is running ({pct}{busy.message ? `: ${busy.message}` : ''}) on the same processor cores: the preview of a slice you step to
          can take a minute or more meanwhile, and appears by itself when it is computed. Until then the slice shows without colours (the preview of the slice before is not left over it).
          {busy.what === 'training' && ' The preview shows the model in use until the training replaces it.'}
        </p>
      )}
      <div className="preview-grid">
        <OverlayPanel axis="z" shape={shape} spacing={vol.spacingUm as Vec3} cursor={cursor} onCursor={setCursor} levelShapes={levelShapes} height={340}
          sliceUrl={(axis, index, level) => sliceUrl(vol.id, { axis, index, level, channel: 0, format: 'png' })}
          overlays={overlays} loadingText={loadingText}
          onKey={(e) => (e.key === 'o' ? (setShow((s) => !s), true) : false)} />
        <OverlayPanel axis="y" shape={shape} spacing={vol.spacingUm as Vec3} cursor={cursor} onCursor={setCursor} levelShapes={levelShapes} height={340}
          sliceUrl={(axis, index, level) => sliceUrl(vol.id, { axis, index, level, channel: 0, format: 'png' })}
          overlays={overlays} loadingText={loadingText}
          onKey={(e) => (e.key === 'o' ? (setShow((s) => !s), true) : false)} />
        <ul className="legend">
          {st.classes.map((c) => <li key={c.code}><span className="swatch" style={{ background: `rgb(${c.color.join(',')})` }} /> {c.name}</li>)}
        </ul>
      </div>
    </section>
  );
}
