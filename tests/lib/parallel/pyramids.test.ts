import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPyramidsInThreads } from '../../../lib/parallel/pyramids-node';
import type { Shape3 } from '../../../lib/volume/types';
import { buildPyramid, createVolume, openVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-pyramids-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const shape: Shape3 = [24, 72, 136];
const chunk: Shape3 = [8, 16, 16];

async function fill(name: string, channels: string[], downsample: 'mean' | 'mode') {
  const s = await createVolume(join(tmp, name), { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels }, { chunk, downsample });
  const n = shape[0] * shape[1] * shape[2];
  for (let c = 0; c < channels.length; c++) {
    const d = new Uint8Array(n);
    for (let i = 0; i < n; i++) d[i] = (Math.imul(i + 977 * c, 2654435761) >>> 24) % (downsample === 'mode' ? 4 : 256);
    await s.writeBlock({ start: [0, 0, 0], shape }, d, { channel: c });
  }
  return s;
}

describe('buildPyramidsInThreads', () => {
  it('builds every channel of several stores in 2 threads, equal to buildPyramid in this thread, and marks them complete', async () => {
    const a = await fill('a.ome.zarr', ['l'], 'mode');
    const b = await fill('b.ome.zarr', ['p0', 'p1', 'p2'], 'mean');
    const a1 = await fill('a1.ome.zarr', ['l'], 'mode');
    const b1 = await fill('b1.ome.zarr', ['p0', 'p1', 'p2'], 'mean');
    expect(a.levels).toBeGreaterThan(1);
    await buildPyramidsInThreads([a, b], 2, { minVoxels: 0 });
    await buildPyramid(a1);
    await buildPyramid(b1);
    for (const [x, y] of [[a, a1], [b, b1]] as const) {
      const got = await openVolume(x.path);
      expect(got.pyramidComplete).toBe(true);
      for (let level = 1; level < x.levels; level++) for (let c = 0; c < x.meta.channels.length; c++) {
        const box = { start: [0, 0, 0] as Shape3, shape: got.levelShape(level) };
        const g = await got.readBlock(box, { level, channel: c });
        const w = await y.readBlock(box, { level, channel: c });
        expect(Buffer.from(g.buffer, g.byteOffset, g.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength))).toBe(true);
        expect(new Set(g).size).toBeGreaterThan(1);
      }
    }
  });
});
