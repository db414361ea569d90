import { mkdtemp, readdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import { reflectIndex } from '../../../lib/volume/reflect';
import type { VolumeStore } from '../../../lib/volume/store';
import { allocate, type AnyVoxelArray, type Box3, type DType, type Shape3, type VolumeMeta } from '../../../lib/volume/types';
import { buildPyramid, createVolume, openVolume, pyramidShapes, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-volume-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function meta(shape: Shape3, dtype: DType, channels = ['xrm']): VolumeMeta {
  return { shape, spacingUm: [2, 1, 1], originUm: [10, 0, -5], dtype, channels };
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomArray(dtype: DType, n: number, r: () => number): AnyVoxelArray {
  const a = allocate(dtype, n);
  for (let i = 0; i < n; i++) a[i] = dtype === 'uint8' ? Math.floor(r() * 256) : dtype === 'uint16' ? Math.floor(r() * 65536) : (r() - 0.5) * 1e3;
  return a;
}

/** Reference read with reflection from a dense array. */
function refRead(data: AnyVoxelArray, shape: Shape3, box: Box3, halo: Shape3): number[] {
  const out: number[] = [];
  for (let z = box.start[0] - halo[0]; z < box.start[0] + box.shape[0] + halo[0]; z++)
    for (let y = box.start[1] - halo[1]; y < box.start[1] + box.shape[1] + halo[1]; y++)
      for (let x = box.start[2] - halo[2]; x < box.start[2] + box.shape[2] + halo[2]; x++)
        out.push(data[(reflectIndex(z, shape[0]) * shape[1] + reflectIndex(y, shape[1])) * shape[2] + reflectIndex(x, shape[2])]!);
  return out;
}

describe('reflection', () => {
  it('is scipy "reflect" (symmetric), repeated for large halos', () => {
    // n = 4: ... 1 0 | 0 1 2 3 | 3 2 1 0 | 0 1 ...
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => reflectIndex(i, 4))).toEqual([2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0, 1]);
    expect([-2, -1, 0, 1, 2].map((i) => reflectIndex(i, 1))).toEqual([0, 0, 0, 0, 0]);
  });

  it('hand-computed halo on a 1x2x3 volume', async () => {
    // x: a b c = 1 2 3 (y=0), 4 5 6 (y=1)
    const s = memoryVolumeStore({ meta: meta([1, 2, 3], 'uint8'), data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    const got = await s.readBlock({ start: [0, 0, 0], shape: [1, 1, 3] }, { halo: [0, 1, 2] });
    // rows y=-1 -> y=0, y=0, y=1; x from -2..4 -> 1 0 | 0 1 2 | 2 1
    expect(Array.from(got)).toEqual([2, 1, 1, 2, 3, 3, 2, 2, 1, 1, 2, 3, 3, 2, 5, 4, 4, 5, 6, 6, 5]);
  });
});

describe('zarr store', () => {
  for (const dtype of ['uint8', 'uint16', 'float32'] as const) {
    it(`round trips random blocks (${dtype}, 2 channels, odd shape, small chunks)`, async () => {
      const shape: Shape3 = [19, 23, 17];
      const p = path.join(dir, `rt-${dtype}.ome.zarr`);
      const store = await createVolume(p, meta(shape, dtype, ['a', 'b']), { chunk: [8, 8, 8] });
      const r = rng(7);
      const n = shape[0] * shape[1] * shape[2];
      const truth = [allocate(dtype, n), allocate(dtype, n)];
      for (let k = 0; k < 30; k++) {
        const bs: Shape3 = [1 + Math.floor(r() * 12), 1 + Math.floor(r() * 12), 1 + Math.floor(r() * 12)];
        const st = bs.map((b, a) => Math.floor(r() * (shape[a]! - b + 1))) as Shape3;
        const c = k % 2;
        const block = randomArray(dtype, bs[0] * bs[1] * bs[2], r);
        await store.writeBlock({ start: st, shape: bs }, block, { channel: c });
        const m = memoryVolumeStore({ meta: meta(shape, dtype, ['a', 'b']), channels: truth });
        await m.writeBlock({ start: st, shape: bs }, block, { channel: c });
      }
      const reopened = await openVolume(p);
      expect(reopened.meta).toEqual(meta(shape, dtype, ['a', 'b']));
      for (let k = 0; k < 10; k++) {
        const bs: Shape3 = [1 + Math.floor(r() * 10), 1 + Math.floor(r() * 10), 1 + Math.floor(r() * 10)];
        const st = bs.map((b, a) => Math.floor(r() * (shape[a]! - b + 1))) as Shape3;
        const halo: Shape3 = [Math.floor(r() * 25), Math.floor(r() * 4), Math.floor(r() * 3)];
        for (const c of [0, 1]) {
          const got = await reopened.readBlock({ start: st, shape: bs }, { channel: c, halo });
          expect(got.constructor).toBe(truth[c]!.constructor);
          expect(Array.from(got)).toEqual(refRead(truth[c]!, shape, { start: st, shape: bs }, halo));
          const f = await reopened.readBlockF32({ start: st, shape: bs }, { channel: c, halo });
          expect(f).toBeInstanceOf(Float32Array);
          expect(Array.from(f)).toEqual(Array.from(Float32Array.from(got)));
        }
      }
      // the memory store agrees with the zarr store, halo included
      const m = memoryVolumeStore({ meta: meta(shape, dtype, ['a', 'b']), channels: truth });
      const b: Box3 = { start: [0, 20, 3], shape: [5, 3, 9] };
      expect(Array.from(await m.readBlock(b, { halo: 4, channel: 1 }))).toEqual(Array.from(await reopened.readBlock(b, { halo: 4, channel: 1 })));
    });
  }

  it('writes OME-Zarr 0.5 multiscales metadata', async () => {
    const p = path.join(dir, 'ome.ome.zarr');
    await createVolume(p, meta([100, 300, 200], 'uint16'), { chunk: [64, 64, 64] });
    const g = JSON.parse(await readFile(path.join(p, 'zarr.json'), 'utf8'));
    expect(g.zarr_format).toBe(3);
    const ms = g.attributes.ome.multiscales[0];
    expect(g.attributes.ome.version).toBe('0.5');
    expect(ms.axes.map((a: { name: string }) => a.name)).toEqual(['c', 'z', 'y', 'x']);
    expect(ms.axes[1].unit).toBe('micrometer');
    expect(ms.datasets.map((d: { path: string }) => d.path)).toEqual(['0', '1', '2', '3']);
    // z halves while z > 64: 100 -> 50 then stays
    expect(ms.datasets[1].coordinateTransformations[0].scale).toEqual([1, 4, 2, 2]);
    expect(ms.datasets[3].coordinateTransformations[0].scale).toEqual([1, 4, 8, 8]);
    expect(g.attributes.petromap.meta.shape).toEqual([100, 300, 200]);
    expect(pyramidShapes([100, 300, 200])).toEqual([[100, 300, 200], [50, 150, 100], [50, 75, 50], [50, 38, 25]]);
    const a1 = JSON.parse(await readFile(path.join(p, '1', 'zarr.json'), 'utf8'));
    expect(a1.shape).toEqual([1, 50, 150, 100]);
  });

  it('builds the pyramid by 2x mean, blockwise', async () => {
    const shape: Shape3 = [20, 21, 34];
    const n = shape[0] * shape[1] * shape[2];
    const data = new Uint16Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 7919) % 1000;
    const p = path.join(dir, 'pyr.ome.zarr');
    const progress: number[] = [];
    const store = await writeDenseVolume(p, { meta: meta(shape, 'uint16'), data }, { chunk: [8, 8, 8], levels: 3, onProgress: (f) => progress.push(f) });
    expect(progress.at(-1)).toBe(1);
    expect(store.levels).toBe(3);
    expect(store.levelShape(1)).toEqual([10, 11, 17]);
    expect(store.levelShape(2)).toEqual([5, 6, 9]);
    const reopened = await openVolume(p);
    expect(reopened.pyramidComplete).toBe(true);
    const l1 = await reopened.readBlock({ start: [0, 0, 0], shape: [10, 11, 17] }, { level: 1 });
    const expected = (src: ArrayLike<number>, s: Shape3, z: number, y: number, x: number) => {
      let sum = 0;
      let cnt = 0;
      for (let dz = 0; dz < 2; dz++)
        for (let dy = 0; dy < 2; dy++)
          for (let dx = 0; dx < 2; dx++) {
            const zz = 2 * z + dz, yy = 2 * y + dy, xx = 2 * x + dx;
            if (zz < s[0] && yy < s[1] && xx < s[2]) (sum += src[(zz * s[1] + yy) * s[2] + xx]!), cnt++;
          }
      return Math.round(sum / cnt);
    };
    for (const [z, y, x] of [[0, 0, 0], [3, 5, 7], [9, 10, 16], [4, 10, 2]] as const) {
      expect(l1[(z * 11 + y) * 17 + x]).toBe(expected(data, shape, z, y, x));
    }
    const l2 = await reopened.readBlock({ start: [0, 0, 0], shape: [5, 6, 9] }, { level: 2 });
    expect(l2[(2 * 6 + 5) * 9 + 8]).toBe(expected(l1, [10, 11, 17], 2, 5, 8));
  });

  it('the streaming pyramid (slab by slab) equals buildPyramid', async () => {
    const shape: Shape3 = [21, 70, 66];
    const n = shape[0] * shape[1] * shape[2];
    const data = new Float32Array(n).map((_, i) => Math.sin(i * 0.37) * 100);
    const a = await writeDenseVolume(path.join(dir, 'stream.ome.zarr'), { meta: meta(shape, 'float32'), data }, { chunk: [8, 16, 16], levels: 4 });
    // z is halved only while it is > the chunk z
    expect([0, 1, 2, 3].map((k) => a.levelShape(k))).toEqual([[21, 70, 66], [11, 35, 33], [6, 18, 17], [6, 9, 9]]);
    const b = await createVolume(path.join(dir, 'twopass.ome.zarr'), meta(shape, 'float32'), { chunk: [8, 16, 16], levels: 4 });
    await b.writeBlock({ start: [0, 0, 0], shape }, data);
    await buildPyramid(b);
    for (let k = 1; k < a.levels; k++) {
      const s = a.levelShape(k);
      expect(Array.from(await a.readBlock({ start: [0, 0, 0], shape: s }, { level: k })), `level ${k}`).toEqual(Array.from(await b.readBlock({ start: [0, 0, 0], shape: s }, { level: k })));
    }
    expect((await openVolume(path.join(dir, 'stream.ome.zarr'))).pyramidComplete).toBe(true);
  });

  it("label volumes (downsample: 'mode') keep class codes in the overview levels", async () => {
    const shape: Shape3 = [8, 8, 6];
    const labels = new Uint8Array(8 * 8 * 6).map((_, i) => ((i % 6) < 3 ? 2 : 5)); // x < 3: quartz (2), else pyrite (5)
    labels[0] = 4; // one clay voxel in the first block: the mode stays quartz
    const s = await writeDenseVolume(path.join(dir, 'labels.ome.zarr'), { meta: meta(shape, 'uint8'), data: labels }, { chunk: [4, 4, 4], levels: 2, downsample: 'mode' });
    const l1 = await s.readBlock({ start: [0, 0, 0], shape: s.levelShape(1) }, { level: 1 });
    // x blocks {0,1} -> 2, {2,3} -> tie 2/5, first met wins -> 2, {4,5} -> 5
    expect(Array.from(l1.subarray(0, 3))).toEqual([2, 2, 5]);
    expect(new Set(l1)).toEqual(new Set([2, 5]));
    const again = await openVolume(path.join(dir, 'labels.ome.zarr'));
    expect(again.downsample).toBe('mode');
  });

  it('an interrupted chunk write (a temp file left behind) leaves the old chunk readable', async () => {
    const p = path.join(dir, 'atomic.ome.zarr');
    const store = await createVolume(p, meta([8, 8, 8], 'uint8'), { chunk: [8, 8, 8] });
    const block = new Uint8Array(512).fill(42);
    await store.writeBlock({ start: [0, 0, 0], shape: [8, 8, 8] }, block);
    const chunkDir = path.join(p, '0', 'c', '0', '0', '0');
    expect(await readdir(chunkDir)).toEqual(['0']);
    // a crash between writing the temp file and renaming it
    await writeFile(path.join(chunkDir, '0.tmp-99999-deadbeef'), Buffer.from('half a chu'));
    const again = await openVolume(p);
    expect(Array.from(await again.readBlock({ start: [0, 0, 0], shape: [8, 8, 8] }))).toEqual(Array.from(block));
    // a new write replaces the chunk and leaves no temp of its own
    await again.writeBlock({ start: [0, 0, 0], shape: [1, 1, 1] }, new Uint8Array([7]));
    expect((await readdir(chunkDir)).sort()).toEqual(['0', '0.tmp-99999-deadbeef']);
    expect((await again.readBlock({ start: [0, 0, 0], shape: [1, 1, 2] }))[0]).toBe(7);
  });

  it('serialises concurrent writes to the same chunk', async () => {
    const p = path.join(dir, 'conc.ome.zarr');
    const store = await createVolume(p, meta([4, 16, 16], 'uint8'), { chunk: [4, 16, 16] });
    await Promise.all(
      Array.from({ length: 16 }, (_, y) => store.writeBlock({ start: [0, y, 0], shape: [4, 1, 16] }, new Uint8Array(64).fill(y + 1))),
    );
    const all = await store.readBlock({ start: [0, 0, 0], shape: [4, 16, 16] });
    expect(all[(2 * 16 + 9) * 16 + 3]).toBe(10);
    expect(Array.from(all).every((v, i) => v === (((i >> 4) & 15) + 1))).toBe(true);
  });

  it('wholeChunks: a parallel writer must cover whole chunks or end at the volume edge, else an internal error', async () => {
    const p = path.join(dir, 'whole.ome.zarr');
    const store = await createVolume(p, meta([10, 9, 7], 'uint8'), { chunk: [4, 4, 4], levels: 1 });
    const fill = (b: Box3, v: number) => new Uint8Array(b.shape[0] * b.shape[1] * b.shape[2]).fill(v);
    const ok: Box3[] = [
      { start: [0, 0, 0], shape: [4, 4, 4] },
      { start: [4, 4, 0], shape: [4, 5, 7] }, // y and x end at the edge
      { start: [8, 0, 4], shape: [2, 8, 3] }, // z and x end at the edge
    ];
    for (const [k, b] of ok.entries()) await store.writeBlock(b, fill(b, k + 1), { wholeChunks: true });
    const bad: Box3[] = [
      { start: [1, 0, 0], shape: [3, 4, 4] }, // starts inside a chunk
      { start: [0, 0, 0], shape: [4, 4, 3] }, // ends inside a chunk, not at the edge
      { start: [0, 4, 0], shape: [4, 4, 6] }, // x ends at 6 of 7
    ];
    for (const b of bad) {
      const err = await store.writeBlock(b, fill(b, 9), { wholeChunks: true }).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(isPetromapError(err)).toBe(false);
      expect(String(err.message)).toMatch(/^Internal error: .*does not cover whole chunks of \(4, 4, 4\)/);
    }
    // the refused writes changed nothing; the accepted ones are there
    const all = await store.readBlock({ start: [0, 0, 0], shape: [10, 9, 7] });
    const at = (z: number, y: number, x: number) => all[(z * 9 + y) * 7 + x];
    expect([at(0, 0, 0), at(3, 3, 3), at(5, 8, 6), at(9, 7, 6), at(1, 0, 3), at(0, 4, 0)]).toEqual([1, 1, 2, 3, 1, 0]);
    // the single-writer path still read-modify-writes partly covered chunks
    await store.writeBlock({ start: [1, 1, 1], shape: [1, 1, 1] }, new Uint8Array([7]));
    expect(Array.from(await store.readBlock({ start: [1, 1, 0], shape: [1, 1, 3] }))).toEqual([1, 7, 1]);
  });

  it('two store instances writing parts of one chunk lose writes (why parallel writers own whole chunks)', async () => {
    // PETROMAP_TEST_WRITE_DELAY_MS widens the read -> write window: both writers read the empty
    // chunk before either writes, so the last rename wins. This is the race that left unlabelled
    // voxels in parallel predictions; the same hook drives tests/lib/classify/predict-concurrency.
    const p = path.join(dir, 'race.ome.zarr');
    await createVolume(p, meta([4, 8, 8], 'uint8'), { chunk: [4, 8, 8], levels: 1 });
    const [a, b] = [await openVolume(p), await openVolume(p)];
    const old = process.env.PETROMAP_TEST_WRITE_DELAY_MS;
    process.env.PETROMAP_TEST_WRITE_DELAY_MS = '150';
    try {
      await Promise.all([
        a.writeBlock({ start: [0, 0, 0], shape: [4, 4, 8] }, new Uint8Array(128).fill(1)),
        b.writeBlock({ start: [0, 4, 0], shape: [4, 4, 8] }, new Uint8Array(128).fill(2)),
      ]);
    } finally {
      if (old === undefined) delete process.env.PETROMAP_TEST_WRITE_DELAY_MS;
      else process.env.PETROMAP_TEST_WRITE_DELAY_MS = old;
    }
    const all = await (await openVolume(p)).readBlock({ start: [0, 0, 0], shape: [4, 8, 8] });
    const zeros = Array.from(all).filter((v) => v === 0).length;
    expect(zeros).toBe(128); // one half was lost
    // with wholeChunks the same two writers are refused before anything is read or written
    await expect(a.writeBlock({ start: [0, 0, 0], shape: [4, 4, 8] }, new Uint8Array(128).fill(1), { wholeChunks: true })).rejects.toThrow(/Internal error/);
  });

  for (const compression of ['gzip', 'none'] as const) {
    it(`round trips with ${compression} chunks`, async () => {
      const p = path.join(dir, `codec-${compression}.ome.zarr`);
      const data = new Uint16Array(6 * 7 * 8).map((_, i) => (i * 37) % 500);
      await writeDenseVolume(p, { meta: meta([6, 7, 8], 'uint16'), data }, { compression, chunk: [4, 4, 4] });
      const s = await openVolume(p);
      expect(s.compression).toBe(compression);
      expect(Array.from(await s.readBlock({ start: [0, 0, 0], shape: [6, 7, 8] }))).toEqual(Array.from(data));
    });
  }

  it('gives clear errors', async () => {
    await expect(openVolume(path.join(dir, 'nope.ome.zarr'))).rejects.toSatisfy((e) => isPetromapError(e, 'NotFound'));
    const empty = path.join(dir, 'empty-folder');
    await createVolume(path.join(dir, 'x.ome.zarr'), meta([2, 2, 2], 'uint8'));
    await writeFile(path.join(dir, 'plain.txt'), 'hello');
    await expect(openVolume(path.join(dir, 'plain.txt'))).rejects.toSatisfy((e) => isPetromapError(e, 'InvalidInput'));
    await import('node:fs/promises').then((f) => f.mkdir(empty));
    await expect(openVolume(empty)).rejects.toThrow(/not a petromap volume/);
    await expect(createVolume(path.join(dir, 'x.ome.zarr'), meta([2, 2, 2], 'uint8'))).rejects.toSatisfy((e) => isPetromapError(e, 'Conflict'));
    const s: VolumeStore = await openVolume(path.join(dir, 'x.ome.zarr'));
    await expect(s.readBlock({ start: [1, 0, 0], shape: [2, 1, 1] })).rejects.toThrow(/does not lie inside the volume/);
    await expect(s.readBlock({ start: [0, 0, 0], shape: [1, 1, 1] }, { channel: 1 })).rejects.toThrow(/channel 1 does not exist/);
    await expect(s.writeBlock({ start: [0, 0, 0], shape: [1, 1, 2] }, new Uint16Array(2))).rejects.toThrow(/uint16 values but the volume stores uint8/);
  });
});
