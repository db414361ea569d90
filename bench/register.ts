/**
 * `npm run bench -- register [rigid cases, default 2] [rigid-only]`: petromap's EDS -> XRM registration
 * against Debian's native elastix CLI (the peer) on the same image pairs from synthetic sandstones.
 * Then the issue-19 table: distorted (shear, stretch, partial coverage) and stitched maps, petromap's
 * automatic model choice beside native elastix AffineTransform started from petromap's similarity.
 *   - petromap: full automatic pipeline (surface, slab, coarse search, refinement), in-process
 *   - petromap elastix (ITK-Wasm) and native elastix from the same initial pose (petromap's coarse)
 *   - native elastix from no initial pose (only the pixel sizes as spacing)
 * Errors are the acceptance measure (mean / max voxel distance of EDS pixel centres to the truth).
 * Both elastix runs use EulerTransform (rigid; the scale comes from the pixel sizes) because Debian's
 * elastix 5.0.1 has no SimilarityTransform, and the same parameter map otherwise.
 * The peer runs single-threaded (-threads 1), like the wasm build. Skipped if /usr/bin/elastix is missing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeAffine2to3, type Affine2 } from '../lib/coords';
import { coarseAlign } from '../lib/registration/coarse-align';
import { detectSurface } from '../lib/registration/detect-surface';
import { refineWithElastix } from '../lib/registration/elastix-refine';
import { extractSlab } from '../lib/registration/extract-slab';
import { movingImage } from '../lib/registration/moving-image';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import { generateSandstone, randomAcquisition, REGISTRATION_RANGES } from '../lib/synthetic';
import { registrationError } from '../tests/lib/registration/helpers';
import { ELASTIX, nativeElastix } from './_native-elastix';
import { distortedTable } from './register-distorted';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (e: { mean: number; max: number }) => `${e.mean.toFixed(2)}/${e.max.toFixed(2)}`;

export async function run(args: string[]): Promise<void> {
  const cases = Number(args[0] ?? 2);
  const peer = existsSync(ELASTIX);
  if (!peer) console.log(`(${ELASTIX} missing: the native elastix peer is skipped; apt-get install elastix)`);
  const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-register-'));
  const rows: Record<string, number[]> = { total: [], wasm: [], native: [] };
  console.log('case  petromap(total ms, err mean/max)  itk-wasm elastix from coarse(ms, err)  native elastix from coarse(ms, err)  native from none(err)');
  try {
    for (let seed = 1; seed <= cases; seed++) {
      const input = randomAcquisition(seed, { shape: [24, 192, 192], voxelUm: 2 }, { ...REGISTRATION_RANGES, depthVox: [2, 10] });
      const s = generateSandstone(input);
      const err = (m: Affine2, slabToVoxel: Parameters<typeof composeAffine2to3>[0]) =>
        registrationError(composeAffine2to3(slabToVoxel, m), s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape);
      let t0 = performance.now();
      const reg = await registerEdsToVolume(s.volume, s.eds, { inWorker: false });
      const total = performance.now() - t0;
      const surface = await detectSurface(s.volume);
      const slab = await extractSlab(s.volume, surface);
      const mov = movingImage(s.eds);
      const coarse = await coarseAlign(slab, mov, { voxelUm: 2 });
      const images = { fixed: slab.data, fixedWidth: slab.width, fixedHeight: slab.height, moving: mov.grey, movingWidth: mov.width, movingHeight: mov.height };
      t0 = performance.now();
      const wasm = await refineWithElastix(images, coarse.edsToSlab, { model: 'rigid' });
      const wasmMs = performance.now() - t0;
      let line = `${seed}     ${total.toFixed(0)} ms, ${fmt(err(reg.edsToSlab, reg.slabToVoxel))}          ${wasmMs.toFixed(0)} ms, ${fmt(err(wasm, slab.slabToVoxel))}`;
      rows.total.push(total); rows.wasm.push(wasmMs);
      if (peer) {
        const d1 = await mkdtemp(join(dir, 'c')), d2 = await mkdtemp(join(dir, 'n'));
        const nat = await nativeElastix(d1, slab, mov.grey, mov.width, mov.height, coarse.edsToSlab, coarse.scale);
        const none = await nativeElastix(d2, slab, mov.grey, mov.width, mov.height, null, coarse.scale).catch(() => null);
        rows.native.push(nat.ms);
        line += `          ${nat.ms.toFixed(0)} ms, ${fmt(err(nat.edsToSlab, slab.slabToVoxel))}          ${none ? fmt(err(none.edsToSlab, slab.slabToVoxel)) : 'failed'}`;
      }
      console.log(line);
    }
    if (cases > 0) {
      console.log(`median petromap total ${median(rows.total).toFixed(0)} ms; itk-wasm elastix ${median(rows.wasm).toFixed(0)} ms` +
        (peer ? `; native elastix ${median(rows.native).toFixed(0)} ms; itk-wasm / native = ${(median(rows.wasm) / median(rows.native)).toFixed(2)}` +
          `; petromap total / native elastix = ${(median(rows.total) / median(rows.native)).toFixed(2)}` : ''));
    }
    if (args[1] !== 'rigid-only') await distortedTable(peer, dir);
  } finally {
    if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
  }
}
