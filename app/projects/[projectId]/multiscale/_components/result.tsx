'use client';
/** The latest composite model: whole-sample porosity, statements, class table, charts, downloads. */
import type { RouterOutputs } from '@/app/_components/api-types';
import { ClassPorosityChart, DepthPorosityChart } from './charts';

type State = RouterOutputs['multiscale']['state'];

const pct = (v: number | null | undefined, d = 1) => (v == null || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(d)} %`);
const num = (v: number | null | undefined, d = 3) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));

type Result = NonNullable<State['result']>;

export function Result({ projectId, r, classes }: { projectId: string; r: Result; classes: { code: number; name: string; color: [number, number, number] }[] }) {
  const color = (code: number) => `rgb(${(classes.find((c) => c.code === code)?.color ?? [128, 128, 128]).join(',')})`;
  const href = (f: string) => `/api/projects/${encodeURIComponent(projectId)}/multiscale/${f}`;
  return (
    <div data-testid="ms-result">
      {r.stale && <p className="info">This model was built from an earlier scan or prediction: measure again.</p>}
      <p data-testid="ms-total">
        Whole sample porosity <strong>{pct(r.total.value, 2)}</strong> (95 % interval {pct(r.total.low, 2)} – {pct(r.total.high, 2)}) over {pct(r.total.coveredFraction)} of the volume.
      </p>
      {r.statements.map((t) => <p key={t} className="warning" data-testid="ms-statement">{t}</p>)}
      <ul className="info" data-testid="ms-segmentations">
        {r.interiors.map((it) => (
          <li key={it.name}>
            {it.name}: {it.footprints} low-res voxels measured on {it.hiVoxels.toLocaleString('en')} high-res voxels; pore/solid by{' '}
            {it.segmentation === 'labels' ? 'the classifier trained on your painted pore/solid strokes' : it.segmentation === 'threshold' ? `your threshold ${+it.threshold.toPrecision(5)}`
              : `automatic thresholds per class (${Object.entries(it.thresholds).map(([k, t]) => `${classes.find((c) => c.code === Number(k))?.name ?? `class ${k}`} ${+Number(t).toPrecision(4)}`).join(', ')})`}.
          </li>
        ))}
      </ul>
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
