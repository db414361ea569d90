'use client';
/**
 * The registration's transform model on the Correlate page (issue 19): the model in use and why,
 * a switch between the candidates (similarity / affine / per-field) with each one's residual map
 * (patch-wise misfit over the map, voxels) and, for a stitched mosaic, the per-field corrections
 * as arrows over the fields. "Use" makes the viewed candidate the registration (un-accepted).
 * Per-field refinement runs on the map's TIMA field layout when it has one (the per-field model),
 * on a regular grid of the user's size otherwise (the automatic choice with that grid).
 * d3 scales in useMemo, React renders the SVG.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { interpolateYlOrRd, scaleSequential } from 'd3';
import { useMemo, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import type { RouterOutputs } from '@/app/_components/api-types';
import { jobEnded, useRegisterJob } from '@/app/_components/correlate/use-register-job';
import { FieldsPicture } from './fields-map';

type Reg = NonNullable<RouterOutputs['correlate']['state']['registration']>;
type Model = 'similarity' | 'affine' | 'fields';
type Residual = NonNullable<Reg['residual']>;

const LABEL: Record<Model, string> = { similarity: 'Similarity', affine: 'Affine', fields: 'Per-field' };
/** What each model does to the map, in a mineralogist's words (the reason below is the measurement's). */
const PLAIN: Record<Model, string> = {
  similarity: 'The map is placed as one piece: shifted, turned and scaled evenly, not stretched.',
  affine: 'The map is placed as one piece that may also stretch or shear slightly (a stitched SEM map often does).',
  fields: "Each SEM field of the stitched map is shifted on its own, close to the whole map's placement.",
};
/**
 * Why a registration shows no residual map, in one plain sentence (a new user looked for it after a
 * landmark fit): the map is measured by matching each patch of the EDS map against the volume,
 * which only Auto-register does.
 */
export function noResidualText(source: Reg['source'] | undefined): string {
  return source === 'landmarks'
    ? 'No residual map: this placement comes from your landmark pairs alone, and the map is measured by Auto-register, which matches each patch of the EDS map against the volume (run it to see the map and compare the models).'
    : 'No residual map: this registration was made before the residual map existed; run Auto-register again to see it and compare the models.';
}
const fmt = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

function stats(r: Residual | undefined) {
  const xs = (r?.misfitVox ?? []).filter((x): x is number => x !== null);
  return { mean: xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN, max: xs.length ? Math.max(...xs) : NaN, n: xs.length };
}

/** Heat map of the patch misfit over the EDS map (w x h EDS pixels). */
function ResidualMap({ r, w, h, top }: { r: Residual; w: number; h: number; top: number }) {
  const W = 260, H = Math.max(60, Math.round((W * h) / w));
  const color = useMemo(() => scaleSequential(interpolateYlOrRd).domain([0, top]), [top]);
  const sx = W / w, sy = H / h;
  return (
    <svg width={W} height={H + 22} data-testid="residual-map" role="img" aria-label="residual map">
      {r.misfitVox.map((m, i) => {
        const c = i % r.cols, row = Math.floor(i / r.cols);
        return (
          <rect key={i} x={c * r.patchPx[0] * sx} y={row * r.patchPx[1] * sy} width={Math.min(r.patchPx[0], w - c * r.patchPx[0]) * sx}
            height={Math.min(r.patchPx[1], h - row * r.patchPx[1]) * sy} fill={m === null ? '#ddd' : color(m)} stroke="#fff" strokeWidth={0.5}
            data-testid="residual-cell">
            <title>{m === null ? 'off the volume' : `${m.toFixed(2)} voxel`}</title>
          </rect>
        );
      })}
      {[0, 0.5, 1].map((t) => (
        <g key={t} transform={`translate(${t * (W - 62)},${H + 4})`}>
          <rect width={12} height={10} fill={color(t * top)} />
          <text x={15} y={9} fontSize={10}>{(t * top).toFixed(2)} vox</text>
        </g>
      ))}
    </svg>
  );
}

/** `face`: the face whose registration it shows (issue 15 §1; the Correlate page's face selector). */
export function RegistrationModelPanel({ projectId, face = 'top' }: { projectId: string; face?: 'top' | 'bottom' }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const state = useQuery(trpc.correlate.state.queryOptions({ projectId, face })).data;
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.correlate.state.queryKey({ projectId }) });
  const [view, setView] = useState<Model | null>(null);
  const [grid, setGrid] = useState<[number, number]>([3, 3]);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const choose = useMutation(trpc.correlate.chooseModel.mutationOptions({ onSuccess: () => refresh(), onError: (e) => setError(e.message) }));
  const auto = useMutation(trpc.correlate.autoRegister.mutationOptions());
  const job = useRegisterJob(jobId, (p) => {
    if (p.state !== 'done') setError(`Per-field registration ${p.state}: ${p.error ?? ''}`);
    setView(null);
    void refresh();
  });
  const reg = state?.registration;
  if (!state?.eds || !reg) return null;
  const inUse: Model = reg.model ?? 'similarity';
  const cands = reg.candidates;
  const shown: Model = view && cands?.[view] ? view : inUse;
  const cand = cands?.[shown];
  const s = stats(cand?.residual ?? undefined);
  const all = (['similarity', 'affine', 'fields'] as const).map((m) => stats(cands?.[m]?.residual ?? undefined).max).filter(Number.isFinite);
  const top = Math.max(0.5, ...all);
  const running = !!jobId && !jobEnded(job?.state);
  const { width: w, height: h } = state.eds;
  const tima = state.eds.timaFields ?? 0;
  return (
    <div className="card" data-testid="model-panel" style={{ marginTop: '0.75rem' }}>
      <h3>Transform model</h3>
      <p className="small" data-testid="model-in-use">
        In use: <strong>{LABEL[inUse]}</strong>
        {reg.modelChoice && <> · requested {reg.modelChoice.requested}, {reg.modelChoice.patches} patches measured</>}
      </p>
      <p className="small" data-testid="model-plain">{PLAIN[inUse]}</p>
      {reg.modelChoice && (
        <details className="small muted">
          <summary>Why this model (the measurement)</summary>
          <p data-testid="model-reason">{reg.modelChoice.reason}</p>
        </details>
      )}
      {!cands && <p className="small muted" data-testid="no-residual">{noResidualText(reg.source)}</p>}
      {cands && (
        <>
          <div className="row" style={{ alignItems: 'center', gap: '0.5rem' }}>
            <div className="seg" role="group" aria-label="Compare models">
              {(['similarity', 'affine', 'fields'] as const).map((m) => (
                <button key={m} className={shown === m ? 'on' : ''} disabled={!cands[m]} onClick={() => setView(m)} data-testid={`model-view-${m}`}
                  title={cands[m] ? `Show the ${m} candidate's residual map` : m === 'fields' ? 'Refine per field (below) to get this candidate' : 'Not computed'}>
                  {LABEL[m]}{m === inUse ? ' ✓' : ''}
                </button>
              ))}
            </div>
            {shown !== inUse && (
              <button className="primary" onClick={() => { setError(null); choose.mutate({ projectId, model: shown, face }); }} disabled={choose.isPending || running} data-testid="use-model">
                Use {LABEL[shown].toLowerCase()}
              </button>
            )}
          </div>
          <p className="small" data-testid="residual-summary">
            Residual over {s.n} patches: mean <span className="num">{fmt(s.mean)}</span>, max <span className="num">{fmt(s.max)}</span> voxel
            {reg.truthError && shown === inUse && <> · error against the synthetic truth: mean <span className="num">{fmt(reg.truthError.meanVox)}</span>, max <span className="num">{fmt(reg.truthError.maxVox)}</span> voxel</>}
          </p>
          <div className="row" style={{ gap: '1rem', alignItems: 'flex-start', flexWrap: 'wrap' }}>
            <div>
              <div className="small muted" title="Each patch's best local shift against the model. The measurement itself scatters by about 0.3 voxel: compare the models' maps rather than reading one value.">
                Residual map (local misfit over the EDS map)
              </div>
              {cand?.residual ? <ResidualMap r={cand.residual} w={w} h={h} top={top} /> : <span className="muted small">none</span>}
            </div>
            {shown === 'fields' && cands.fields && (
              <div>
                <FieldsPicture fields={cands.fields.fields} w={w} h={h} />
              </div>
            )}
          </div>
        </>
      )}
      <div className="row" style={{ alignItems: 'center', gap: '0.5rem', marginTop: '0.5rem' }}>
        {tima > 0 ? (
          <span className="small" data-testid="field-layout" title="Stage positions and field size from the TIMA export (fields.xml, measurement.xml), overlaps cut where the stitching cuts">
            Stitched mosaic: TIMA field layout ({tima} fields)
          </span>
        ) : (
          <>
            <span className="small">Stitched mosaic: fields</span>
            <input type="number" min={1} max={64} value={grid[0]} onChange={(e) => setGrid([Math.max(1, Number(e.target.value) || 1), grid[1]])} style={{ width: '4em' }} data-testid="field-cols" aria-label="field columns" />
            <span className="small">×</span>
            <input type="number" min={1} max={64} value={grid[1]} onChange={(e) => setGrid([grid[0], Math.max(1, Number(e.target.value) || 1)])} style={{ width: '4em' }} data-testid="field-rows" aria-label="field rows" />
            <span className="small muted" data-testid="field-layout">regular grid {grid[0]}×{grid[1]}</span>
          </>
        )}
        <button disabled={running || auto.isPending} data-testid="refine-fields"
          onClick={() => {
            setError(null);
            // a TIMA map: the per-field model on its own layout; other maps: the automatic choice with the grid
            const input = tima > 0 ? { projectId, face, registrationModel: 'fields' as const } : { projectId, face, registrationModel: 'auto' as const, fieldGrid: grid };
            auto.mutate(input, { onSuccess: (r) => setJobId(r.jobId), onError: (e) => setError(e.message) });
          }}
          title="Register again and refine each field's offset, regularised towards the global transform (a field with no distinct match keeps it)">
          Refine per field
        </button>
        {running && <span className="small muted" data-testid="fields-progress">{Math.round((job?.progress ?? 0) * 100)} % {job?.message ?? ''}</span>}
      </div>
      {error && <div className="error small" data-testid="model-error">{error}</div>}
    </div>
  );
}
