/**
 * Results statistics (streamed brick by brick) against straightforward computations over the
 * whole arrays of small volumes; the labels overview of the 3D view; the histogram and metrics
 * CSV tables.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { histogramsCsv, metricsCsv } from '../../../lib/report/csv';
import { depthProfile } from '../../../lib/report/depth';
import { labelsOverview, labelsOverviewNifti, overviewLevel } from '../../../lib/report/labels-overview';
import { modalMineralogy } from '../../../lib/report/modal';
import { classGreyHistograms, depthBinVox, greyRange, resultsStats, truthIoU } from '../../../lib/report/results-stats';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { VolumeStore } from '../../../lib/volume/store';
import type { Shape3, VolumeMeta } from '../../../lib/volume/types';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-results-stats-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A deterministic pseudo-random generator (mulberry32). */
function rand(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const shape: Shape3 = [13, 21, 17];
const n = shape[0] * shape[1] * shape[2];
const meta = (dtype: VolumeMeta['dtype']): VolumeMeta => ({ shape, spacingUm: [2, 1.5, 1.5], originUm: [0, 0, 0], dtype, channels: ['c0'] });
const r = rand(7);
const truth = new Uint8Array(n);
const labels = new Uint8Array(n);
const grey = new Uint16Array(n);
for (let i = 0; i < n; i++) {
  const z = Math.floor(i / (shape[1] * shape[2]));
  truth[i] = z < 3 ? 0 : 1 + Math.floor(r() * 4);
  // mostly right, some wrong, a few unlabelled, some with a code outside the class list (7)
  const u = r();
  labels[i] = z < 3 ? 0 : u < 0.7 ? truth[i]! : u < 0.95 ? 1 + Math.floor(r() * 4) : u < 0.98 ? 0 : 7;
  grey[i] = 1000 + 500 * labels[i]! + Math.floor(r() * 400);
}
grey[5] = 65000; // one bright voxel: the range covers it
const classes = [1, 2, 3, 4].map((code) => ({ code, name: ['pore', 'quartz', 'feldspar', 'clay'][code - 1]! }));
const surface = { a: 0.05, b: -0.02, c: 2.5 };
const labelStore = () => memoryVolumeStore({ meta: meta('uint8'), data: labels });
const greyStore = () => memoryVolumeStore({ meta: meta('uint16'), data: grey });
const truthStore = () => memoryVolumeStore({ meta: meta('uint8'), data: truth });

function referenceHistograms(lo: number, hi: number, bins: number) {
  const out: Record<number, number[]> = {};
  for (const c of classes) out[c.code] = new Array(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!out[c]) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((grey[i]! - lo) / (hi - lo)) * bins)));
    out[c]![b]!++;
  }
  return out;
}

function referenceIoU() {
  const out: Record<number, number> = {};
  for (const { code } of classes) {
    let inter = 0, union = 0;
    for (let i = 0; i < n; i++) {
      if (!truth[i]) continue;
      const t = truth[i] === code, p = labels[i] === code;
      if (t && p) inter++;
      if (t || p) union++;
    }
    out[code] = union ? inter / union : 0;
  }
  return out;
}

describe('resultsStats', () => {
  it('matches whole-array computations, whatever the brick size', async () => {
    let lo = Infinity, hi = -Infinity;
    for (const v of grey) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const range = await greyRange(greyStore(), { brick: [4, 8, 5] });
    expect(range.lo).toBe(lo);
    expect(range.hi).toBeGreaterThan(hi);
    expect(range.hi).toBeCloseTo(hi, 0);
    const ref = referenceHistograms(range.lo, range.hi, 96);
    const refIoU = referenceIoU();
    for (const brick of [[4, 8, 5], [64, 64, 64], [1, 21, 17]] as Shape3[]) {
      const progress: number[] = [];
      const st = await resultsStats({ labels: labelStore(), scan: greyStore(), truth: truthStore(), classes, surface }, { brick, onProgress: (f) => progress.push(f) });
      expect(progress.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= progress[i - 1]!))).toBe(true);
      expect(progress.at(-1)).toBe(1);
      expect(st.histograms.lo).toBe(range.lo);
      expect(st.histograms.hi).toBe(range.hi);
      expect(st.histograms.counts).toEqual(ref);
      for (const c of classes) expect(st.truthIoU![c.code]).toBeCloseTo(refIoU[c.code]!, 12);
      // modal and depth are lib/report's own (tested in report.test.ts) with the surface and bins chosen here
      expect(st.modal).toEqual(await modalMineralogy(labelStore(), classes, { surface }));
      expect(st.depth).toEqual(await depthProfile(labelStore(), surface, classes, { binVox: depthBinVox(shape, surface) }));
    }
    // every class voxel is in its histogram once (code 7 is not a class; 0 is no label)
    const st = await resultsStats({ labels: labelStore(), scan: greyStore(), classes, surface });
    for (const c of classes) expect(st.histograms.counts[c.code]!.reduce((a, b) => a + b, 0)).toBe(labels.filter((v) => v === c.code).length);
    expect(st.truthIoU).toBeNull();
  });

  it('has histogram and IoU entry points of its own', async () => {
    const h = await classGreyHistograms(labelStore(), greyStore(), [1, 2, 3, 4], { bins: 10, range: { lo: 1000, hi: 4000 } });
    expect(h.counts).toEqual(referenceHistograms(1000, 4000, 10));
    expect(await truthIoU(labelStore(), truthStore(), [1, 2, 3, 4], { brick: [5, 5, 5] })).toEqual(referenceIoU());
    // IoU of the truth against itself is 1
    for (const v of Object.values(await truthIoU(truthStore(), truthStore(), [1, 2, 3, 4]))) expect(v).toBe(1);
  });

  it('chooses about 60 depth bins below the surface', () => {
    expect(depthBinVox([600, 10, 10], { a: 0, b: 0, c: 0 })).toBe(10);
    expect(depthBinVox([40, 10, 10], { a: 0, b: 0, c: 10 })).toBe(1);
    expect(depthBinVox([600, 100, 100], { a: 1, b: 0, c: 0 }, 60)).toBe(10); // from the lowest corner of the plane
  });

  it('stops when cancelled and refuses volumes of another shape', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await resultsStats({ labels: labelStore(), scan: greyStore(), classes, surface }, { signal: ac.signal }).catch((e) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
    const other = memoryVolumeStore({ meta: { ...meta('uint8'), shape: [13, 21, 16] }, data: new Uint8Array(13 * 21 * 16) });
    await expect(resultsStats({ labels: labelStore(), scan: greyStore(), truth: other, classes, surface })).rejects.toThrow(/shape/);
  });
});

describe('labels overview (3D view)', () => {
  const big: Shape3 = [40, 96, 80];
  const data = new Uint8Array(big[0] * big[1] * big[2]);
  for (let i = 0; i < data.length; i++) data[i] = 1 + ((i * 7) % 5);
  const m: VolumeMeta = { shape: big, spacingUm: [1, 2, 2], originUm: [0, 0, 0], dtype: 'uint8', channels: ['label'] };

  it('reads the pyramid level just above the size asked for and stays within it', async () => {
    const store = await writeDenseVolume(join(tmp, 'ov.ome.zarr'), { meta: m, data }, { chunk: [16, 32, 32], downsample: 'mode' });
    expect(store.levels).toBeGreaterThan(1);
    // count the voxels read
    let read = 0;
    const counting = {
      path: store.path, meta: store.meta, levels: store.levels, pyramidComplete: store.pyramidComplete,
      levelShape: (k: number) => store.levelShape(k),
      readBlock: async (box: Parameters<VolumeStore['readBlock']>[0], o?: Parameters<VolumeStore['readBlock']>[1]) => {
        read += box.shape[0] * box.shape[1] * box.shape[2];
        return store.readBlock(box, o);
      },
      readBlockF32: store.readBlockF32.bind(store),
      writeBlock: store.writeBlock.bind(store),
    } satisfies VolumeStore & { pyramidComplete: boolean };
    const maxEdge = 30;
    const level = overviewLevel(store, maxEdge);
    const ls = store.levelShape(level);
    expect(Math.max(...ls)).toBeGreaterThanOrEqual(maxEdge);
    if (level + 1 < store.levels) expect(Math.max(...store.levelShape(level + 1))).toBeLessThan(maxEdge);
    const ov = await labelsOverview(counting, { maxEdge });
    expect(Math.max(...ov.shape)).toBeLessThanOrEqual(maxEdge);
    expect(read).toBeLessThanOrEqual(maxEdge * (2 * maxEdge) ** 2);
    // nearest voxels of that level
    const lvl = await store.readBlock({ start: [0, 0, 0], shape: ls }, { level });
    const f = ov.step;
    for (let z = 0; z < ov.shape[0]; z++) for (let y = 0; y < ov.shape[1]; y++) for (let x = 0; x < ov.shape[2]; x++) {
      expect(ov.data[(z * ov.shape[1] + y) * ov.shape[2] + x]).toBe(lvl[(z * f * ls[1] + y * f) * ls[2] + x * f]);
    }
    // the physical extent is kept
    for (let a = 0; a < 3; a++) expect(ov.shape[a]! * ov.spacingUm[a]!).toBeGreaterThanOrEqual(big[a]! * m.spacingUm[a]! - 1e-9);
    const nii = await labelsOverviewNifti(store, { maxEdge });
    const dv = new DataView(nii.buffer, nii.byteOffset);
    expect([dv.getInt16(42, true), dv.getInt16(44, true), dv.getInt16(46, true)]).toEqual([ov.shape[2], ov.shape[1], ov.shape[0]]);
    expect(nii.length).toBe(352 + ov.data.length);
  });

  it('subsamples level 0 of a store without a pyramid (memory store)', async () => {
    const ov = await labelsOverview(memoryVolumeStore({ meta: m, data }), { maxEdge: 48 });
    expect(ov.level).toBe(0);
    expect(ov.step).toBe(2);
    expect(ov.shape).toEqual([20, 48, 40]);
    expect(ov.data[1 * 48 * 40 + 3 * 40 + 5]).toBe(data[(2 * 96 + 6) * 80 + 10]);
  });
});

describe('histogram and metrics tables', () => {
  it('write CRLF CSV with neutralised class names', () => {
    const csv = histogramsCsv({ lo: -1, hi: 3, bins: 2, counts: { 1: [4, 5], 2: [0, 7] } }, [{ code: 1, name: 'pore' }, { code: 2, name: '=HYPERLINK("x")' }]);
    expect(csv).toBe('grey_from,grey_to,pore_voxels,"\'=HYPERLINK(""x"")_voxels"\r\n-1,1,4,0\r\n1,3,5,7\r\n');
    const m = metricsCsv({ perClass: [{ class: 2, precision: 0.5, recall: 1, f1: 2 / 3, iou: 0.5, support: 10 }, { class: 9, precision: 0, recall: 0, f1: 0, iou: 0, support: 0 }] }, [{ code: 2, name: '@quartz' }]);
    expect(m.split('\r\n')).toEqual(['class,name,precision,recall,f1,iou,support', "2,'@quartz,0.5,1,0.666667,0.5,10", '9,class 9,0,0,0,0,0', '']);
  });
});
