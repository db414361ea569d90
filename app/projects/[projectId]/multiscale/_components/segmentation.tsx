'use client';
/**
 * Pore / solid of a registered interior scan over its own three views: voxels darker than the
 * threshold are pore (cyan). The threshold starts at the automatic one (half-way between the pore
 * and grain grey peaks of the whole interior; the measurement refines it per lithology class) and
 * follows the slider live (the slices are coloured here, nothing is recomputed on the server).
 * "Measure with this threshold" stores it for the measurement (one threshold for every class);
 * "Automatic" goes back to the per-class thresholds.
 */
import { useMemo, useState } from 'react';
import type { RouterOutputs } from '@/app/_components/api-types';
import type { SliceAxis, Vec3 } from '@/app/_components/viewer/slice-geometry';
import { guessLevelShapes, sliceUrl } from '@/app/_components/viewer/volume-info';
import { MsSlicePanel, type SliceLayer } from './ms-slice-panel';

type Interior = RouterOutputs['multiscale']['state']['interiors'][number];

interface GreySlice { width: number; height: number; values: Float32Array; }

const ARRAYS: Record<string, (b: ArrayBuffer) => ArrayLike<number>> = {
  uint8: (b) => new Uint8Array(b), uint16: (b) => new Uint16Array(b), float32: (b) => new Float32Array(b),
  int16: (b) => new Int16Array(b), uint32: (b) => new Uint32Array(b), int32: (b) => new Int32Array(b),
};

async function loadGrey(datasetId: string, axis: SliceAxis, index: number, signal: AbortSignal): Promise<GreySlice> {
  const res = await fetch(sliceUrl(datasetId, { axis, index, level: 0, channel: 0, format: 'raw' }), { signal });
  if (!res.ok) throw new Error(((await res.json().catch(() => null)) as { error?: string } | null)?.error ?? `HTTP ${res.status}`);
  const dtype = res.headers.get('X-Dtype') ?? 'uint8', make = ARRAYS[dtype];
  if (!make) throw new Error(`Cannot show ${dtype} voxels.`);
  return { width: Number(res.headers.get('X-Slice-Width')), height: Number(res.headers.get('X-Slice-Height')), values: Float32Array.from(make(await res.arrayBuffer())) };
}

export function SegmentationPreview({ it, busy, onThreshold }: { it: Interior; busy: boolean; onThreshold: (t: number | null) => void }) {
  const shape = it.dataset!.shape as Vec3, spacing = it.dataset!.spacingUm as Vec3;
  const levelShapes = useMemo(() => guessLevelShapes(shape, it.dataset!.levels), [shape.join(), it.dataset!.levels]); // eslint-disable-line react-hooks/exhaustive-deps
  const auto = it.registration?.auto ?? null;
  const [cursor, setCursor] = useState<Vec3>(shape.map((n) => Math.floor(n / 2)) as Vec3);
  const [t, setT] = useState<number>(it.threshold ?? auto?.threshold ?? 0);
  // slider range: from below the pore peak to above the grain peak
  const lo = auto ? auto.lowMean - 0.5 * (auto.highMean - auto.lowMean) : 0, hi = auto ? auto.highMean + 0.5 * (auto.highMean - auto.lowMean) : 255;
  const step = (hi - lo) / 200 > 1 ? Math.round((hi - lo) / 200) : +((hi - lo) / 200).toPrecision(2);
  const layer: SliceLayer<GreySlice> = {
    key: it.datasetId,
    load: (axis, index, signal) => loadGrey(it.datasetId, axis, index, signal),
    styleKey: String(t),
    opacity: 0.6,
    rgba: (d) => {
      const out = new Uint8ClampedArray(4 * d.values.length);
      for (let i = 0; i < d.values.length; i++) if (d.values[i]! < t) out.set([0, 229, 255, 255], 4 * i);
      return out;
    },
    readout: (d, u, v) => {
      const g = d.values[v * d.width + u]!;
      let pores = 0;
      for (const x of d.values) if (x < t) pores++;
      return `grey ${+g.toPrecision(5)} · ${g < t ? 'pore' : 'solid'} · ${(100 * pores / d.values.length).toFixed(1)} % pore on this slice`;
    },
  };
  const stored = it.threshold;
  return (
    <div className="ms-segmentation" data-testid="ms-segmentation">
      <h4>Pore / solid</h4>
      <p className="info">
        Cyan: pore (darker than the threshold). Automatic threshold {auto ? +auto.threshold.toPrecision(5) : '—'} (half-way between the pore grey {auto ? +auto.lowMean.toPrecision(4) : '—'} and the grain grey {auto ? +auto.highMean.toPrecision(4) : '—'}); the measurement refines it per lithology class unless you fix one here.
        {' '}Measuring uses <strong data-testid="ms-threshold-used">{stored == null ? 'the automatic thresholds per class' : `your threshold ${+stored.toPrecision(5)} for every class`}</strong>.
      </p>
      <div className="controls">
        <label>threshold <input type="range" min={lo} max={hi} step={step} value={t} onChange={(e) => setT(Number(e.target.value))} data-testid="ms-threshold" aria-label="Pore/solid threshold" /></label>
        <span className="num">{+t.toPrecision(5)}</span>
        <button type="button" disabled={busy} data-testid="ms-threshold-save" onClick={() => onThreshold(t)}>Measure with this threshold</button>
        <button type="button" disabled={busy || stored == null} onClick={() => { onThreshold(null); if (auto) setT(auto.threshold); }}>Automatic</button>
      </div>
      <div className="ortho" style={{ display: 'grid', gridTemplateColumns: 'repeat(3, minmax(0, 1fr))', gap: 6 }}>
        {(['z', 'y', 'x'] as const).map((axis) => (
          <MsSlicePanel key={axis} axis={axis} shape={shape} spacing={spacing} levelShapes={levelShapes} cursor={cursor} onCursor={setCursor} testId="ms-seg-view"
            greyUrl={(a, index, level) => sliceUrl(it.datasetId, { axis: a, index, level, channel: 0, format: 'png' })} layer={layer} height={200} />
        ))}
      </div>
    </div>
  );
}
