/**
 * Pyramid of a label volume: each coarser voxel takes the most frequent non-zero label of its
 * 2x2x2 (or 1x2x2 where z is not halved) parents; a mean, right for grey values, would invent
 * classes between codes.
 */
import { throwIfAborted, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';

export async function buildLabelPyramid(store: VolumeStore, opts: StageOptions & { chunk?: Shape3 } = {}): Promise<void> {
  const chunk = opts.chunk ?? ((store as { chunk?: Shape3 }).chunk ?? [64, 64, 64]);
  const total = Math.max(1, store.levels - 1);
  for (let k = 1; k < store.levels; k++) {
    const src = store.levelShape(k - 1), dst = store.levelShape(k);
    const f: Shape3 = [src[0] === dst[0] ? 1 : 2, 2, 2];
    for (let z = 0; z < dst[0]; z += chunk[0]) for (let y = 0; y < dst[1]; y += chunk[1]) for (let x = 0; x < dst[2]; x += chunk[2]) {
      throwIfAborted(opts.signal);
      const box: Box3 = { start: [z, y, x], shape: [Math.min(chunk[0], dst[0] - z), Math.min(chunk[1], dst[1] - y), Math.min(chunk[2], dst[2] - x)] };
      const s0 = box.start.map((s, a) => s * f[a]) as Shape3;
      const s1 = box.start.map((s, a) => Math.min((s + box.shape[a]) * f[a], src[a])) as Shape3;
      const ss = s1.map((e, a) => e - s0[a]) as Shape3;
      const data = await store.readBlock({ start: s0, shape: ss }, { level: k - 1, signal: opts.signal });
      const out = new Uint8Array(box.shape[0] * box.shape[1] * box.shape[2]);
      const counts = new Uint16Array(256);
      const seen: number[] = [];
      let o = 0;
      for (let dz = 0; dz < box.shape[0]; dz++) for (let dy = 0; dy < box.shape[1]; dy++) for (let dx = 0; dx < box.shape[2]; dx++, o++) {
        seen.length = 0;
        for (let a = 0; a < f[0]; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) {
          const sz = dz * f[0] + a, sy = dy * 2 + b, sx = dx * 2 + c;
          if (sz >= ss[0] || sy >= ss[1] || sx >= ss[2]) continue;
          const v = data[(sz * ss[1] + sy) * ss[2] + sx];
          if (v && counts[v]++ === 0) seen.push(v);
        }
        let best = 0, bc = 0;
        for (const v of seen) {
          if (counts[v] > bc || (counts[v] === bc && v < best)) { best = v; bc = counts[v]; }
          counts[v] = 0;
        }
        out[o] = best;
      }
      await store.writeBlock(box, out, { level: k });
    }
    opts.onProgress?.(k / total, `label pyramid level ${k}`);
  }
}
