'use client';
/**
 * Painted pore/solid corrections on an interior scan's three views, and the engine trained on them
 * (the Annotate step's: features + MLP, task lithologyTrainPredict), whose whole-interior prediction
 * the measurement then uses instead of the threshold. Strokes: magenta pore, yellow solid; the
 * trained prediction's pores in cyan. Slices go through /api/projects/:id/multiscale/pores.
 */
import { useMemo, useState } from 'react';
import type { RouterOutputs } from '@/app/_components/api-types';
import { changedOnly } from '@/lib/volume/slice-edit';
import type { SliceAxis, Vec3 } from '@/app/_components/viewer/slice-geometry';
import { guessLevelShapes, sliceUrl } from '@/app/_components/viewer/volume-info';
import { JobLine } from './job-line';
import { MsSlicePanel, type SliceLayer, type SlicePaint } from './ms-slice-panel';

type Interior = RouterOutputs['multiscale']['state']['interiors'][number];
interface PaintSlice { width: number; height: number; strokes: Uint8Array; pred: Uint8Array | null }
type Tool = 'navigate' | 'pore' | 'solid' | 'erase';

/** fewer painted voxels of a class than this: the page asks for more before training (40 + 40 on one slice trained well, e2e 08 / lib's few-label test) */
const FEW_PAINTED = 20;

const url = (projectId: string, ds: string, axis: SliceAxis, index: number, layer = 'strokes') =>
  `/api/projects/${encodeURIComponent(projectId)}/multiscale/pores?dataset=${ds}&axis=${axis}&index=${index}&layer=${layer}`;

async function bytes(u: string, signal?: AbortSignal) {
  const res = await fetch(u, { signal, cache: 'no-store' });
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `HTTP ${res.status}`);
  return { data: new Uint8Array(await res.arrayBuffer()), width: Number(res.headers.get('X-Slice-Width')), height: Number(res.headers.get('X-Slice-Height')) };
}

export interface PorePaintProps {
  projectId: string;
  it: Interior;
  busy: boolean;
  onSaved: () => void;
  onError: (m: string) => void;
  onTrain: () => void;
  onUse: (use: boolean) => void;
}

export function PorePaint({ projectId, it, busy, onSaved, onError, onTrain, onUse }: PorePaintProps) {
  const shape = it.dataset!.shape as Vec3, spacing = it.dataset!.spacingUm as Vec3;
  const levelShapes = useMemo(() => guessLevelShapes(shape, it.dataset!.levels), [shape.join(), it.dataset!.levels]); // eslint-disable-line react-hooks/exhaustive-deps
  const [cursor, setCursor] = useState<Vec3>(shape.map((n) => Math.floor(n / 2)) as Vec3);
  const [tool, setTool] = useState<Tool>('navigate');
  const [radius, setRadius] = useState(0);
  const [saving, setSaving] = useState(0);
  const pores = it.pores, trained = pores.trained;
  const ds = it.datasetId;
  const layer: SliceLayer<PaintSlice> = {
    key: `${ds}:${trained?.at ?? 0}`,
    load: async (axis, index, signal) => {
      const [s, p] = await Promise.all([bytes(url(projectId, ds, axis, index), signal), trained ? bytes(url(projectId, ds, axis, index, 'prediction'), signal) : null]);
      return { width: s.width, height: s.height, strokes: s.data, pred: p?.data ?? null };
    },
    styleKey: 'strokes',
    rgba: (d) => {
      const out = new Uint8ClampedArray(4 * d.strokes.length);
      for (let i = 0; i < d.strokes.length; i++) {
        const s = d.strokes[i];
        if (s === 1) out.set([236, 72, 153, 255], 4 * i);
        else if (s === 2) out.set([250, 204, 21, 255], 4 * i);
        else if (d.pred?.[i] === 1) out.set([0, 229, 255, 150], 4 * i);
      }
      return out;
    },
    readout: (d, u, v) => {
      const i = v * d.width + u, s = d.strokes[i];
      return `${s === 1 ? 'painted pore' : s === 2 ? 'painted solid' : 'not painted'}${d.pred ? ` · predicted ${d.pred[i] === 1 ? 'pore' : 'solid'}` : ''}`;
    },
  };
  const paint: SlicePaint<PaintSlice> | null = tool === 'navigate' ? null : {
    code: tool === 'pore' ? 1 : tool === 'solid' ? 2 : 0, radius, target: (d) => d.strokes,
    save: async (axis, index, d, before) => {
      setSaving((n) => n + 1);
      try {
        // only the voxels this stroke changed; the rest as stored: a stroke saved meanwhile on another view crossing this slice stays
        const body = changedOnly(before, d.strokes);
        const res = await fetch(url(projectId, ds, axis, index), { method: 'PUT', body, headers: { 'Content-Type': 'application/octet-stream' } });
        if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `HTTP ${res.status}`);
        onSaved();
      } catch (e) {
        onError(`Saving the painted pore/solid slice failed: ${(e as Error).message}`);
      } finally {
        setSaving((n) => n - 1);
      }
    },
  };
  const nPore = pores.counts['1'] ?? 0, nSolid = pores.counts['2'] ?? 0;
  const active = !!pores.job?.active;
  const toolButton = (t: Tool, label: string) => (
    <label key={t}><input type="radio" name={`pore-tool-${ds}`} checked={tool === t} onChange={() => setTool(t)} data-testid={`ms-pore-tool-${t}`} /> {label}</label>
  );
  return (
    <div className="ms-pore-paint" data-testid="ms-pore-paint" data-saving={saving ? 'yes' : 'no'}>
      <h4>Painted corrections and a trained classifier</h4>
      <p className="info">
        Where the threshold is wrong (noise, partial volume, grains as dark as pores), paint some pore and some solid voxels and train the
        same engine as the Annotate step on them; its prediction of the whole interior then gives the pores.
      </p>
      <div className="controls">
        {toolButton('navigate', 'navigate')}{toolButton('pore', 'pore')}{toolButton('solid', 'solid')}{toolButton('erase', 'eraser')}
        <label>brush radius <input type="number" min={0} max={10} value={radius} onChange={(e) => setRadius(Math.max(0, Math.min(10, Math.round(Number(e.target.value)))))} aria-label="Brush radius (voxels)" /></label>
        <span className="num" data-testid="ms-pore-counts">{nPore} pore, {nSolid} solid voxels painted</span>
        <button type="button" className="primary" data-testid="ms-pore-train" disabled={busy || active || !nPore || !nSolid || saving > 0}
          title={!nPore || !nSolid ? 'Paint both pore and solid first' : undefined} onClick={onTrain}>{active ? 'Training…' : 'Train and predict pores'}</button>
      </div>
      <JobLine job={pores.job} what="pores" failed="Training on the painted pores failed" />
      {trained && (
        <div className="controls" data-testid="ms-pore-trained">
          <span className="info">
            Trained on {trained.counts['1'] ?? 0} pore and {trained.counts['2'] ?? 0} solid voxels; held-out accuracy {trained.heldOutAccuracy == null ? '—' : `${(100 * trained.heldOutAccuracy).toFixed(1)} %`};
            predicted pore fraction of the interior {trained.poreFraction == null ? '—' : `${(100 * trained.poreFraction).toFixed(1)} %`}
            {trained.heldOutAccuracy != null && trained.heldOutAccuracy < 0.8 ? ' — low: compare the cyan pores with the grey before measuring with them; check that the voxels painted pore are dark and those painted solid bright, and paint more, on other slices too' : ''}. Measure with:
          </span>
          <label><input type="radio" name={`pore-use-${ds}`} checked={pores.use} disabled={busy} onChange={() => onUse(true)} data-testid="ms-pore-use-trained" /> the trained pores</label>
          <label><input type="radio" name={`pore-use-${ds}`} checked={!pores.use} disabled={busy} onChange={() => onUse(false)} data-testid="ms-pore-use-threshold" /> the threshold</label>
        </div>
      )}
      <div className="ortho" style={{ display: 'grid', gridTemplateColumns: 'repeat(3, minmax(0, 1fr))', gap: 6 }}>
        {(['z', 'y', 'x'] as const).map((axis) => (
          <MsSlicePanel key={axis} axis={axis} shape={shape} spacing={spacing} levelShapes={levelShapes} cursor={cursor} onCursor={setCursor} testId="ms-pore-view"
            greyUrl={(a, index, level) => sliceUrl(ds, { axis: a, index, level, channel: 0, format: 'png' })} layer={layer} paint={paint} height={220} />
        ))}
      </div>
      {/* below the views: appearing while one paints, it must not move them */}
      {nPore > 0 && nSolid > 0 && Math.min(nPore, nSolid) < FEW_PAINTED && (
        <p className="info" data-testid="ms-pore-few">
          Few painted voxels ({Math.min(nPore, nSolid)} {nPore < nSolid ? 'pore' : 'solid'}): the engine learns from what you paint and holds part of it
          out to check itself. Paint at least {FEW_PAINTED} of each, spread over the interior (several slices, both dense and sparse parts), before training.
        </p>
      )}
      <p className="info">Navigate: click moves the slices. Pore / solid / eraser: the left button paints (one voxel at radius 0); right-drag pans, the wheel zooms.</p>
    </div>
  );
}
