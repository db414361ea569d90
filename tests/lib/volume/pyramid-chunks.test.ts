import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocate, type DType, type Shape3 } from '../../../lib/volume/types';
import { buildPyramid, createVolume, downsample2x } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-pyramid-chunks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buildPyramid chunk by chunk', () => {
  // even chunks: the target blocks are downsampled chunk by chunk; odd ones: from an assembled block
  const cases: Array<[DType, 'mean' | 'mode', Shape3]> = [
    ['uint8', 'mode', [4, 6, 8]],
    ['uint8', 'mean', [4, 6, 8]],
    ['uint16', 'mean', [6, 4, 10]],
    ['float32', 'mean', [4, 8, 6]],
    ['uint8', 'mode', [3, 5, 7]],
  ];
  it.each(cases)('%s %s, chunks %j: every level equals downsample2x of the whole level before', async (dtype, method, chunk) => {
    const shape: Shape3 = [19, 27, 33];
    const n = shape[0] * shape[1] * shape[2];
    const data = allocate(dtype, n);
    let s = 7;
    for (let i = 0; i < n; i++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      // labels: runs of one class with noise; grey values: anything
      data[i] = method === 'mode' ? (s >>> 29 === 0 ? (s >>> 8) % 6 : Math.floor(i / 37) % 6) : dtype === 'float32' ? (s / 2 ** 32 - 0.5) * 1e3 : s >>> (dtype === 'uint8' ? 24 : 16);
    }
    const store = await createVolume(path.join(dir, `${dtype}-${method}-${chunk.join('x')}.ome.zarr`), { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype, channels: ['a'] }, { chunk, levels: 4, downsample: method });
    await store.writeBlock({ start: [0, 0, 0], shape }, data);
    await buildPyramid(store);
    let prev = data;
    for (let k = 1; k < store.levels; k++) {
      const ps = store.levelShape(k - 1);
      const ls = store.levelShape(k);
      const want = downsample2x(prev, ps, ls[0] !== ps[0], dtype, method);
      const got = await store.readBlock({ start: [0, 0, 0], shape: ls }, { level: k });
      expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `level ${k}`).toBe(0);
      prev = got;
    }
  });
});
