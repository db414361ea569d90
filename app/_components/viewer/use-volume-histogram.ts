'use client';
/**
 * Histogram of a volume channel for the window/level control, from the three middle orthogonal
 * slices read raw at a coarse pyramid level: a few hundred KB at most, enough for 1–99 %
 * percentiles, and no extra server procedure needed.
 */
import { useQuery } from '@tanstack/react-query';
import { computeHistogram, type HistogramData } from './histogram-stats';
import { AXIS_DIM, planeDims, type SliceAxis } from './slice-geometry';
import { sliceUrl, type VolumeInfo } from './volume-info';

/** Coarsest level whose XY plane still has >= 256 px along its longer side. */
function sampleLevel(info: VolumeInfo): number {
  let best = 0;
  info.levelShapes.forEach((s, k) => {
    if (Math.max(s[1], s[2]) >= 256) best = k;
  });
  return best;
}

async function fetchRawSlice(info: VolumeInfo, axis: SliceAxis, level: number, channel: number, signal: AbortSignal) {
  const ls = info.levelShapes[level]!;
  const index = Math.floor(ls[AXIS_DIM[axis]] / 2);
  const res = await fetch(sliceUrl(info.datasetId, { axis, index, level, channel, format: 'raw' }), { signal });
  if (!res.ok) throw new Error(`Slice ${axis}=${index} (raw) failed: ${res.status} ${await res.text()}`);
  const buf = await res.arrayBuffer();
  const { h, v } = planeDims(axis);
  const n = ls[h] * ls[v];
  // The byte count tells the element size; trust it over the declared dtype.
  const bpv = n > 0 ? buf.byteLength / n : 0;
  const dtype = res.headers.get('x-dtype') ?? (bpv === 1 ? 'uint8' : bpv === 2 ? 'uint16' : 'float32');
  if (dtype === 'uint8') return new Uint8Array(buf);
  if (dtype === 'uint16') return new Uint16Array(buf, 0, Math.floor(buf.byteLength / 2));
  return new Float32Array(buf, 0, Math.floor(buf.byteLength / 4));
}

export function useVolumeHistogram(info: VolumeInfo, channel: number) {
  return useQuery<HistogramData>({
    queryKey: ['volume-histogram', info.datasetId, channel],
    staleTime: Infinity,
    retry: 1,
    queryFn: async ({ signal }) => {
      const level = sampleLevel(info);
      const parts = await Promise.all((['z', 'y', 'x'] as const).map((a) => fetchRawSlice(info, a, level, channel, signal)));
      const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
      let o = 0;
      for (const p of parts) {
        all.set(p, o);
        o += p.length;
      }
      return computeHistogram(all, 128);
    },
  });
}
