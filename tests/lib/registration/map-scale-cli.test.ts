/**
 * `petromap register` goes through the registration stage's one entry, so it refuses a map far
 * larger than the scan at its voxel size at once, in the same words (it hung at "20 % slab
 * extracted" and reached 2.8 GiB after 80 s on the real TIMA export at an assumed 1 µm).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../../lib/cli/register';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { smallSample } from './helpers';

let dir = '';
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

it('petromap register refuses a map declared 100 times its pixel size, with exit code 1 and nothing written', async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-map-scale-'));
  const s = smallSample({ seed: 61, surfaceDepthVox: 4, eds: { pixelUm: 3 } });
  await writeSyntheticSample(dir, s);
  const out = join(dir, 'registration.json');
  const errors: string[] = [];
  const orig = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    await main(['--volume', dir, '--map', join(dir, 'eds-map.png'), join(dir, 'eds-legend.csv'), '--pixel-um', '300', '--out', out, '--json']);
  } finally {
    console.error = orig;
  }
  expect(process.exitCode).toBe(1);
  process.exitCode = 0;
  expect(errors.join('\n')).toMatch(/^petromap register: The EDS map .* voxels of 2 µm: \d+ times as wide as the scan \(128 × 128 voxels.*The automatic search cannot cover a map that large.*Check the voxel size of the scan and the pixel size of the map.*3 landmark pairs/);
  expect(existsSync(out)).toBe(false);
});
