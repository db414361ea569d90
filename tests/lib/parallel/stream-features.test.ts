import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { brickGrid, featuresForBox } from '../../../lib/features';
import type { BrickFeatures, FeatureSet } from '../../../lib/features/types';
import { streamFeatures } from '../../../lib/parallel/stream-features-node';
import type { Box3, Shape3 } from '../../../lib/volume/types';
import { createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

const dir = mkdtempSync(join(tmpdir(), 'petromap-stream-'));
const path = join(dir, 'scan.ome.zarr');
const shape: Shape3 = [40, 36, 44];
const set: FeatureSet = {
  specs: [
    { filter: 'intensity', sigmaUm: 0 },
    { filter: 'gaussian', sigmaUm: 2 },
    { filter: 'hessianEigen', sigmaUm: 1.5 },
    { filter: 'nonLocalMean', sigmaUm: 3 },
  ],
  preset: 'custom',
};
const bricks = brickGrid(shape, [20, 18, 22]);

beforeAll(async () => {
  const store = await createVolume(path, { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xrm'] }, { chunk: [20, 18, 22], levels: 1 });
  const data = new Uint16Array(shape[0] * shape[1] * shape[2]);
  let s = 1;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = 20000 + ((s >>> 16) % 5000) + (i % 44 > 20 ? 8000 : 0);
  }
  await store.writeBlock({ start: [0, 0, 0], shape }, data);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = (b: Box3) => b.start.join(',');

describe('streamFeatures', () => {
  it('2 threads give the same features as the calling thread, with at most threads*2 bricks in flight', async () => {
    const store = await openVolume(path);
    const expected = new Map<string, BrickFeatures>();
    for (const b of bricks) expected.set(key(b), await featuresForBox(store, b, set));
    const got = new Map<string, BrickFeatures>();
    const progress: number[] = [];
    let concurrentConsumers = 0;
    const res = await streamFeatures(path, set, {
      threads: 2,
      bricks,
      onProgress: (f) => progress.push(f),
      onBrick: async (box, f) => {
        concurrentConsumers++;
        expect(concurrentConsumers).toBe(1);
        await new Promise((r) => setTimeout(r, 30)); // slow consumer: producers must wait
        got.set(key(box), f);
        concurrentConsumers--;
      },
    });
    expect(res.bricks).toBe(bricks.length);
    expect(res.voxels).toBe(shape[0] * shape[1] * shape[2]);
    expect(res.nFeatures).toBe(6);
    expect(res.maxInFlight).toBeLessThanOrEqual(4);
    expect(progress.at(-1)).toBe(1);
    for (const b of bricks) {
      const a = got.get(key(b))!;
      const e = expected.get(key(b))!;
      expect(a.names).toEqual(e.names);
      expect(a.shape).toEqual(b.shape);
      expect(Array.from(a.data)).toEqual(Array.from(e.data));
    }
  });

  it('can be cancelled while bricks are computing', async () => {
    const ac = new AbortController();
    let seen = 0;
    const t0 = Date.now();
    const err = await streamFeatures(path, set, {
      threads: 2,
      bricks,
      signal: ac.signal,
      onBrick: () => {
        seen++;
        ac.abort();
      },
    }).catch((e) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
    expect(seen).toBeLessThan(bricks.length);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('an error in onBrick stops the stream and is passed on', async () => {
    const err = await streamFeatures(path, set, {
      threads: 1,
      bricks,
      onBrick: () => {
        throw new Error('disk full while writing features');
      },
    }).catch((e) => e);
    expect(String(err.message)).toMatch(/disk full/);
  });

  it('names the store when it does not exist', async () => {
    const err = await streamFeatures(join(dir, 'missing.ome.zarr'), set, { threads: 1, onBrick: () => {} }).catch((e) => e);
    expect(isPetromapError(err, 'NotFound')).toBe(true);
    expect(err.message).toMatch(/missing\.ome\.zarr/);
  });
});
