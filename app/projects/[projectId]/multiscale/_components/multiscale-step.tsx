'use client';
/**
 * The Multi-scale step of a lithology project: place high-resolution interior scans (volume
 * datasets uploaded on the Data step) inside the large scan, register them (quality: correlation,
 * error estimate, the three orthogonal views and a checkerboard), then measure porosity per class
 * and build the composite model (table, charts, downloads). Jobs run on the server; this polls.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import type { RouterOutputs } from '@/app/_components/api-types';
import { ClassPorosityChart, DepthPorosityChart } from './charts';
import { RegistrationViews } from './registration-views';

type State = RouterOutputs['multiscale']['state'];
type Job = State['upscaleJob'];

const pct = (v: number | null | undefined, d = 1) => (v == null || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(d)} %`);
const num = (v: number | null | undefined, d = 3) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));

function JobLine({ job, what }: { job: Job; what: string }) {
  if (!job) return null;
  if (job.active) return (
    <div data-testid={`ms-progress-${what}`}>
      <div className="progress"><div style={{ width: `${(job.progress * 100).toFixed(0)}%` }} /></div>
      <span className="info">{(job.progress * 100).toFixed(0)} % {job.message ?? 'waiting to start'}</span>
    </div>
  );
  if (job.state === 'failed') return <p className="error" data-testid={`ms-failed-${what}`}>{job.error}</p>;
  return null;
}

export function MultiscaleStep({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const q = useQuery(trpc.multiscale.state.queryOptions({ projectId }, {
    refetchInterval: (s) => (s.state.data && (s.state.data.upscaleJob?.active || s.state.data.interiors.some((i) => i.registerJob?.active)) ? 800 : false),
  }));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.multiscale.state.queryKey({ projectId }) });
  const opts = { onSuccess: () => { setError(null); void refresh(); }, onError: (e: { message: string }) => setError(e.message) };
  const place = useMutation(trpc.multiscale.place.mutationOptions(opts));
  const remove = useMutation(trpc.multiscale.remove.mutationOptions(opts));
  const register = useMutation(trpc.multiscale.register.mutationOptions(opts));
  const measure = useMutation(trpc.multiscale.measure.mutationOptions(opts));
  const s = q.data;
  if (q.error) return <p className="error">{q.error.message}</p>;
  if (!s) return <p className="muted">Loading…</p>;
  const shape = (s.scan?.meta as { shape?: number[] } | null)?.shape;
  const registered = s.interiors.filter((i) => i.registration && !i.stale).length;
  return (
    <section className="multiscale" data-testid="multiscale-step">
      <h2>Multi-scale</h2>
      <p className="info">
        Place high-resolution interior scans inside the large scan, register them, segment them into pore and solid and measure each
        lithology class: porosity, pore size and the grey value → porosity calibration. Every voxel of the large scan then gets a porosity
        from its class and grey value (the composite model).
      </p>
      {error && <p className="error" data-testid="ms-error">{error}</p>}
      {!s.scan && <p className="info">Import the large scan on the <Link href={`/projects/${projectId}`}>Data step</Link> first.</p>}
      {s.scan && !s.prediction && (
        <p className="info" data-testid="ms-no-prediction">There is no predicted lithology map yet: paint the classes and press “Train and predict” on the <Link href={`/projects/${projectId}/annotate`}>Annotate step</Link>.</p>
      )}
      <h3>Interior scans</h3>
      {s.candidates.length === 0 && (
        <p className="info" data-testid="ms-no-candidates">Upload a high-resolution interior scan on the <Link href={`/projects/${projectId}`}>Data step</Link>; it appears here.</p>
      )}
      <ul className="ms-candidates">
        {s.candidates.filter((c) => !c.placed).map((c) => (
          <PlaceForm key={c.id} name={c.name} shape={shape} onPlace={(centre, angleDeg) => place.mutate({ projectId, datasetId: c.id, centre, angleDeg })} />
        ))}
      </ul>
      {s.interiors.map((it) => (
        <div key={it.datasetId} className="ms-interior card" data-testid="ms-interior">
          <strong>{it.dataset?.name ?? it.datasetId}</strong>
          <span className="info"> placed at voxel ({it.start.centre.map((v) => v.toFixed(1)).join(', ')}), turn {it.start.angleDeg}°</span>
          <div className="controls">
            <button type="button" className="primary" data-testid="ms-register" disabled={!!it.registerJob?.active}
              onClick={() => register.mutate({ projectId, datasetId: it.datasetId })}>{it.registerJob?.active ? 'Registering…' : it.registration ? 'Register again' : 'Register'}</button>
            <button type="button" onClick={() => remove.mutate({ projectId, datasetId: it.datasetId })}>Remove</button>
          </div>
          <JobLine job={it.registerJob} what="register" />
          {it.registration && (
            <div data-testid="ms-registration">
              <p className="info">
                {it.stale ? 'Registered on an earlier scan: register again. ' : ''}
                Centre ({it.registration.pose.centre.map((v) => v.toFixed(2)).join(', ')}) voxels, turn {it.registration.pose.angleDeg.toFixed(2)}°;
                correlation {num(it.registration.quality.nccFinal)} (start {num(it.registration.quality.nccStart)}); error estimate{' '}
                <span data-testid="ms-error-estimate">{num(it.registration.quality.errorEstimateVox, 2)}</span> voxels; scale found / voxel sizes {num(it.registration.quality.scaleRatio)}.
              </p>
              {it.views && <RegistrationViews views={it.views} />}
            </div>
          )}
        </div>
      ))}
      <h3>Measure and build the composite model</h3>
      <div className="controls">
        <button type="button" className="primary" data-testid="ms-measure" disabled={!s.prediction || registered === 0 || !!s.upscaleJob?.active}
          title={!s.prediction ? 'Predict the lithology map first' : registered === 0 ? 'Register an interior scan first' : undefined}
          onClick={() => measure.mutate({ projectId })}>{s.upscaleJob?.active ? 'Measuring…' : 'Measure and build the composite model'}</button>
      </div>
      <JobLine job={s.upscaleJob} what="measure" />
      {s.result && <Result projectId={projectId} r={s.result} classes={s.prediction?.classes ?? []} />}
    </section>
  );
}

function PlaceForm({ name, shape, onPlace }: { name: string; shape: number[] | undefined; onPlace: (c: [number, number, number], a: number) => void }) {
  const mid = (shape ?? [0, 0, 0]).map((n) => Math.round((n - 1) / 2));
  const [v, setV] = useState({ z: mid[0]!, y: mid[1]!, x: mid[2]!, a: 0 });
  const f = (k: 'z' | 'y' | 'x' | 'a', label: string) => (
    <label>{label} <input type="number" step="any" value={v[k]} data-testid={`ms-place-${k}`} aria-label={label} onChange={(e) => setV({ ...v, [k]: Number(e.target.value) })} /></label>
  );
  return (
    <li className="ms-place" data-testid="ms-candidate">
      <strong>{name}</strong> <span className="info">centre in voxels of the large scan (e.g. the proposal it was taken at) and turn about the scan axis:</span>
      <div className="controls">{f('z', 'z')}{f('y', 'y')}{f('x', 'x')}{f('a', 'turn (°)')}
        <button type="button" data-testid="ms-place" onClick={() => onPlace([v.z, v.y, v.x], v.a)}>Place</button></div>
    </li>
  );
}

type Result = NonNullable<State['result']>;

function Result({ projectId, r, classes }: { projectId: string; r: Result; classes: { code: number; color: [number, number, number] }[] }) {
  const color = (code: number) => `rgb(${(classes.find((c) => c.code === code)?.color ?? [128, 128, 128]).join(',')})`;
  const href = (f: string) => `/api/projects/${encodeURIComponent(projectId)}/multiscale/${f}`;
  return (
    <div data-testid="ms-result">
      {r.stale && <p className="info">This model was built from an earlier scan or prediction: measure again.</p>}
      <p data-testid="ms-total">
        Whole sample porosity <strong>{pct(r.total.value, 2)}</strong> (95 % interval {pct(r.total.low, 2)} – {pct(r.total.high, 2)}) over {pct(r.total.coveredFraction)} of the volume.
      </p>
      {r.statements.map((t) => <p key={t} className="warning" data-testid="ms-statement">{t}</p>)}
      <table className="table" data-testid="ms-class-table">
        <thead><tr><th>class</th><th>volume</th><th>footprints</th><th>high-res voxels</th><th>measured porosity</th><th>calibration r²</th><th>mean pore chord</th><th>composite porosity (95 %)</th></tr></thead>
        <tbody>
          {r.classes.map((c) => (
            <tr key={c.code}>
              <td><span className="swatch" style={{ background: color(c.code) }} /> {c.name}</td>
              <td className="num">{pct(c.volumeFraction)}</td>
              <td className="num">{c.calibration?.footprints ?? 0}</td>
              <td className="num">{c.calibration?.hiVoxels ?? 0}</td>
              <td className="num">{c.calibration ? `${num(c.calibration.mean)} ± ${num(c.calibration.std)}` : 'not measured'}</td>
              <td className="num">{num(c.calibration?.r2, 2)}</td>
              <td className="num">{c.meanChordUm != null ? `${c.meanChordUm.toFixed(1)} µm` : '—'}</td>
              <td className="num">{c.porosity ? `${num(c.porosity.value)} (${num(c.porosity.low)} – ${num(c.porosity.high)})` : 'no high-res measurement'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="charts">
        <ClassPorosityChart rows={r.classes.map((c) => ({ name: c.name, value: c.porosity?.value ?? null, low: c.porosity?.low ?? null, high: c.porosity?.high ?? null, measured: c.calibration?.mean ?? null, color: color(c.code) }))} />
        <DepthPorosityChart depth={r.depth.map((d) => ({ z: d.z, porosity: d.porosity }))} voxelUm={r.lowVoxelUm} />
      </div>
      <p className="controls">
        <a className="button" href={href('classes.csv')} download data-testid="ms-download-table">Class table (CSV)</a>
        <a className="button" href={href('depth.csv')} download>Porosity per depth (CSV)</a>
        <a className="button" href={href('composite-porosity.nrrd')} download data-testid="ms-download-model">Composite model (NRRD)</a>
        <a className="button" href={href('composite-porosity.nii')} download>NIfTI</a>
        <a className="button" href={href('composite-porosity.tif')} download>TIFF</a>
        <a className="button" href={href('composite.ome.zarr.zip')} download data-testid="ms-download-zarr">OME-Zarr (zip)</a>
        <a className="button" href={href('report.json')} download>Report (JSON)</a>
      </p>
    </div>
  );
}
