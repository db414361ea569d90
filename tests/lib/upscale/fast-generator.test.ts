/**
 * The large synthetic scan is made straight at low resolution (fields.ts `plane`, slabs in worker
 * threads for the 1024³ benchmark). It must be the same sample as the per-voxel model and as the
 * high-resolution pore truth it stands for: same classes and porosity voxel by voxel, the same
 * class porosity truth as counting the canonical high-resolution pores, and the same bytes with or
 * without worker threads.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MultiscaleField } from '../../../lib/synthetic/multiscale/fields';
import { writeMultiscaleSample } from '../../../lib/synthetic/multiscale/write-multiscale-node';
import type { Vec3 } from '../../../lib/upscale/interior-pose';
import { openVolume } from '../../../lib/volume/zarr-store-node';

describe('multi-scale generator: the fast low-resolution path', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  it('plane() gives classAt / porosityAt bit for bit (halo planes above and below included)', () => {
    for (const [seed, ratio] of [[1, 4], [2, 8]] as const) {
      const shape: Vec3 = [20, 30, 44];
      const f = new MultiscaleField({ seed, shape, ratio });
      const cls = new Uint8Array(30 * 44), phi = new Float64Array(30 * 44);
      let bad = 0;
      for (let z = -3; z < 23; z++) {
        f.plane(z, cls, phi);
        for (let y = 0; y < 30; y++) for (let x = 0; x < 44; x++) {
          const c = f.classAt(z, y, x);
          if (cls[y * 44 + x] !== c || phi[y * 44 + x] !== f.porosityAt(z, y, x, c)) bad++;
        }
      }
      expect(bad).toBe(0);
    }
  });

  it('class porosity truth equals the high-resolution pore count; threads change no byte', { timeout: 60_000 }, async () => {
    const shape: Vec3 = [16, 24, 24], seed = 4, ratio = 4;
    const a = await mkdtemp(join(tmpdir(), 'petromap-fastgen-')), b = await mkdtemp(join(tmpdir(), 'petromap-fastgen-'));
    dirs.push(a, b);
    const opts = { seed, ratio, shape, interiors: [], chunk: [8, 24, 24] as Vec3 }; // two slabs: two threads
    const t1 = await writeMultiscaleSample(a, { ...opts, threads: 1 });
    const t2 = await writeMultiscaleSample(b, { ...opts, threads: 2 });
    // the truth from the canonical hi-res pores (4³ per low-res voxel), counted per class
    const { pores, classes } = new MultiscaleField({ seed, shape, ratio }).poresOfBox(0, 0, 0, ...shape);
    const r = ratio, NY = shape[1] * r, NX = shape[2] * r;
    const sum = [0, 0, 0], n = [0, 0, 0];
    for (let Z = 0; Z < shape[0] * r; Z++) for (let Y = 0; Y < NY; Y++) for (let X = 0; X < NX; X++) {
      const c = classes[(Math.floor(Z / r) * shape[1] + Math.floor(Y / r)) * shape[2] + Math.floor(X / r)]! - 1;
      sum[c] += pores[(Z * NY + Y) * NX + X]!; n[c]++;
    }
    for (const c of t1.classes) {
      expect(c.voxels * r ** 3).toBe(n[c.code - 1]);
      expect(Math.abs(c.porosity - sum[c.code - 1]! / n[c.code - 1]!)).toBeLessThan(1e-9);
    }
    expect(t1.classes.every((c) => c.voxels > 0)).toBe(true);
    expect(Math.abs(t1.totalPorosity - (sum[0]! + sum[1]! + sum[2]!) / (n[0]! + n[1]! + n[2]!))).toBeLessThan(1e-9);
    // threaded and in-process: the same truth and the same scan
    expect(t2.classes.map((c) => c.porosity)).toEqual(t1.classes.map((c) => expect.closeTo(c.porosity, 12)));
    const va = await openVolume(t1.paths.volume), vb = await openVolume(t2.paths.volume);
    const box = { start: [0, 0, 0] as Vec3, shape };
    expect(Buffer.from((await vb.readBlock(box)).buffer).equals(Buffer.from((await va.readBlock(box)).buffer))).toBe(true);
    const ca = await openVolume(t1.paths.classes), cb = await openVolume(t2.paths.classes);
    expect(Buffer.from((await cb.readBlock(box)).buffer).equals(Buffer.from((await ca.readBlock(box)).buffer))).toBe(true);
    expect(JSON.parse(await readFile(join(a, 'truth.json'), 'utf8')).lowShape).toEqual(shape);
  });
});
