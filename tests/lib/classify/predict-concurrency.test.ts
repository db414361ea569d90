/**
 * Issue 12: parallel prediction must never leave voxels unlabelled. Odd-sized volumes, 2 worker
 * threads, and every chunk write delayed between read and write (PETROMAP_TEST_WRITE_DELAY_MS, the
 * store's test hook): with bricks that shared chunks this lost writes every time; with chunk-aligned
 * bricks the result is complete and equals a 1-thread run bit for bit. Plus the verification pass
 * (unit, and end to end on a prediction with a punched hole, which a restart repairs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countUnlabelled } from '../../../lib/classify/brick-predict';
import { isAboveSurface, type SurfacePlane } from '../../../lib/classify/mirror';
import { trainClassifier } from '../../../lib/classify/model';
import { saveModel } from '../../../lib/classify/model-io-node';
import { predictVolume, type PredictResult } from '../../../lib/classify/predict-node';
import { buildTrainingSet, featureFnFor, type LabelledVoxel } from '../../../lib/classify/training-set';
import { isPetromapError } from '../../../lib/errors';
import { chunkGrid } from '../../../lib/features';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { Box3, Shape3 } from '../../../lib/volume/types';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { TEST_SET } from './helpers';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-predict-conc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Smooth blobs + noise, uint16, deterministic. */
function blobVolume(shape: Shape3, seed: number): Uint16Array {
  const [nz, ny, nx] = shape;
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Uint16Array(nz * ny * nx);
  const f = [0.11 + 0.05 * r(), 0.07 + 0.05 * r(), 0.13 + 0.05 * r()];
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const v = Math.sin(f[0]! * z + 1.3 * Math.sin(f[1]! * y)) * Math.cos(f[2]! * x + 0.7 * Math.sin(f[0]! * y));
    out[i] = Math.round(20000 + 12000 * v + 1500 * (r() - 0.5));
  }
  return out;
}

/** Runs predictVolume with the write-delay hook set (worker threads copy process.env when they start). */
async function withWriteDelay<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const old = process.env.PETROMAP_TEST_WRITE_DELAY_MS;
  process.env.PETROMAP_TEST_WRITE_DELAY_MS = String(ms);
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env.PETROMAP_TEST_WRITE_DELAY_MS;
    else process.env.PETROMAP_TEST_WRITE_DELAY_MS = old;
  }
}

async function readAll(path: string, channels: number, level = 0): Promise<Buffer> {
  const s = await openVolume(path);
  const parts = [];
  for (let c = 0; c < channels; c++) parts.push(Buffer.from((await s.readBlock({ start: [0, 0, 0], shape: s.levelShape(level) }, { channel: c, level })).buffer));
  return Buffer.concat(parts);
}

async function outputs(r: PredictResult, level = 0) {
  return {
    labels: await readAll(r.labelsPath, 1, level),
    probs: await readAll(r.probabilitiesPath, r.classes.length, level),
    unc: await readAll(r.uncertaintyPath, 1, level),
  };
}

/** Unlabelled voxels inside the sample, counted directly on the whole label array. */
function holesIn(labels: Buffer, shape: Shape3, surface: SurfacePlane | null): number {
  const [nz, ny, nx] = shape;
  let n = 0;
  for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    if (labels[i] === 0 && !(surface && isAboveSurface(surface, z, y, x))) n++;
  }
  return n;
}

describe('parallel prediction (issue 12)', () => {
  const modelDir = join(tmp, 'model');
  const cases: Array<{ name: string; shape: Shape3; chunk: Shape3; surface: SurfacePlane | null }> = [
    // odd sizes: every axis ends in a partial brick; a tilted surface leaves air bricks and mixed ones
    { name: '75x130x97, tilted surface', shape: [75, 130, 97], chunk: [32, 48, 40], surface: { a: 0.06, b: 0.05, c: 30 } },
    { name: '33x47x61, no surface', shape: [33, 47, 61], chunk: [16, 16, 32], surface: null },
  ];
  const stores = new Map<string, string>();

  beforeAll(async () => {
    for (const [k, c] of cases.entries()) {
      const p = join(tmp, `vol-${k}.ome.zarr`);
      await writeDenseVolume(p, { meta: { shape: c.shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, data: blobVolume(c.shape, 7 + k) }, { chunk: [32, 32, 32] });
      stores.set(c.name, p);
    }
    // a small classifier: three intensity classes of the first volume (quality does not matter here)
    const train = await openVolume(stores.get(cases[0]!.name)!);
    const [nz, ny, nx] = train.meta.shape;
    const all = (await train.readBlock({ start: [0, 0, 0], shape: train.meta.shape })) as Uint16Array;
    const voxels: LabelledVoxel[] = [];
    for (let z = 2; z < nz; z += 6) for (let y = 3; y < ny; y += 6) for (let x = 1; x < nx; x += 6) {
      const v = all[(z * ny + y) * nx + x]!;
      voxels.push({ z, y, x, cls: v < 15000 ? 1 : v < 25000 ? 2 : 3 });
    }
    const ts = await buildTrainingSet(train, voxels, { features: featureFnFor(TEST_SET), featureSet: TEST_SET, maxPerClass: 400 });
    const tm = await trainClassifier(ts, { epochs: 3, hidden: [16] });
    await saveModel(modelDir, tm, { classNames: ['dark', 'mid', 'bright'] });
  });

  for (const c of cases) {
    it(`${c.name}: 2 threads with delayed writes leave no voxel unlabelled and equal 1 thread bit for bit`, async () => {
      const storePath = stores.get(c.name)!;
      const base = { brick: c.chunk, mirrorSurface: c.surface };
      const one = await predictVolume(storePath, modelDir, join(tmp, `${c.name}-1`), { ...base, threads: 1 });
      const two = await withWriteDelay(20, () => predictVolume(storePath, modelDir, join(tmp, `${c.name}-2`), { ...base, threads: 2 }));
      const grid = chunkGrid(c.shape, c.chunk);
      expect(two.bricksTotal).toBe(grid.length);
      expect(two.bricksDone + two.bricksSkipped).toBe(grid.length);
      if (c.surface) expect(two.bricksSkipped).toBeGreaterThan(0); // all-air bricks exist in this case
      const a = await outputs(one), b = await outputs(two);
      // the verification pass counted the sample, and an independent count agrees: no holes
      const [nz, ny, nx] = c.shape;
      let inside = 0;
      for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (!(c.surface && isAboveSurface(c.surface, z, y, x))) inside++;
      expect(two.verifiedVoxels).toBe(inside);
      expect(two.unlabelledVoxels).toBe(0);
      expect(holesIn(b.labels, c.shape, c.surface)).toBe(0);
      expect(b.labels.equals(a.labels)).toBe(true);
      expect(b.probs.equals(a.probs)).toBe(true);
      expect(b.unc.equals(a.unc)).toBe(true);
      // the pyramids were built from the complete level 0: identical too
      const levels = (await openVolume(two.labelsPath)).levels;
      expect(levels).toBe(c.shape.some((n) => n > 64) ? (await openVolume(one.labelsPath)).levels : 1);
      for (let k = 1; k < levels; k++) {
        const a1 = await outputs(one, k), b1 = await outputs(two, k);
        expect(b1.labels.equals(a1.labels)).toBe(true);
        expect(b1.probs.equals(a1.probs)).toBe(true);
      }
    });
  }

  it('fails loudly on a hole (count and percentage), and a restart redoes only the bricks with holes', async () => {
    const c = cases[0]!;
    const storePath = stores.get(c.name)!;
    const out = join(tmp, 'holes');
    const base = { brick: c.chunk, mirrorSurface: c.surface, threads: 2, pyramids: false };
    const first = await predictVolume(storePath, modelDir, out, base);
    const ref = await readAll(first.labelsPath, 1);
    // punch a hole: clear one whole brick below the surface (as a lost write would)
    const labels = await openVolume(first.labelsPath);
    const hole: Box3 = chunkGrid(c.shape, c.chunk).find((b) => b.start[0] === 64 && b.start[1] === 48 && b.start[2] === 40)!;
    await labels.writeBlock(hole, new Uint8Array(hole.shape[0] * hole.shape[1] * hole.shape[2]), { wholeChunks: true });
    const n = hole.shape[0] * hole.shape[1] * hole.shape[2]; // the brick lies entirely below the surface
    const err = await predictVolume(storePath, modelDir, out, base).catch((e) => e);
    expect(isPetromapError(err, 'Unprocessable')).toBe(true);
    const pct = ((100 * n) / first.verifiedVoxels).toFixed(2);
    expect(err.message).toContain(`left ${n.toLocaleString('en')} of ${first.verifiedVoxels.toLocaleString('en')} voxels inside the sample (${pct} %) without a label`);
    expect(err.details).toMatchObject({ unlabelled: n, sampleVoxels: first.verifiedVoxels, bricks: ['64_48_40.done'] });
    const again = await predictVolume(storePath, modelDir, out, base);
    expect(again.bricksDone).toBe(1);
    expect(again.unlabelledVoxels).toBe(0);
    expect((await readAll(again.labelsPath, 1)).equals(ref)).toBe(true);
  });

  it('countUnlabelled counts label 0 only inside the sample (below the surface, or everywhere)', async () => {
    const shape: Shape3 = [20, 9, 11];
    const surface: SurfacePlane = { a: 0.5, b: 0.25, c: 3 };
    const data = new Uint8Array(shape[0] * shape[1] * shape[2]);
    const [nz, ny, nx] = shape;
    let inside = 0, holes = 0, air = 0;
    for (let z = 0, i = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
      const above = isAboveSurface(surface, z, y, x);
      if (above) { air++; continue; } // air stays 0: not a hole
      inside++;
      if ((z === 15 && y === 4) || (z === 12 && x === 10 && y < 3)) holes++;
      else data[i] = 2;
    }
    expect(air).toBeGreaterThan(0);
    const store = memoryVolumeStore({ meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['label'] }, data });
    const grid = chunkGrid(shape, [8, 4, 4]);
    const r = await countUnlabelled(store, grid, surface);
    expect(r).toMatchObject({ sampleVoxels: inside, unlabelled: holes });
    expect(holes).toBe(11 + 3);
    expect(r.holes.length).toBeGreaterThan(0);
    expect(r.holes.every((b) => b.start[0] <= 15 && b.start[0] + b.shape[0] > 12)).toBe(true);
    // without a surface the air counts too
    const flat = await countUnlabelled(store, grid, null);
    expect(flat).toMatchObject({ sampleVoxels: nz * ny * nx, unlabelled: holes + air });
  });
});
