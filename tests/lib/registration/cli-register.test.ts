import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/register';
import type { Affine2to3 } from '../../../lib/coords';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { registrationError, smallSample } from './helpers';

describe('petromap register (CLI)', () => {
  let dir = '';
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('registers a written sample folder and writes the transform as JSON', async () => {
    dir = await mkdtemp(join(tmpdir(), 'petromap-register-'));
    const s = smallSample({ seed: 61, surfaceDepthVox: 4, tiltDeg: 2, eds: { rotationDeg: 250, pixelUm: 3 } });
    await writeSyntheticSample(dir, s);
    const out = join(dir, 'registration.json');
    await main(['--volume', dir, '--map', join(dir, 'eds-map.png'), join(dir, 'eds-legend.csv'), '--pixel-um', '3', '--out', out]);
    expect(process.exitCode ?? 0).toBe(0);
    const json = JSON.parse(await readFile(out, 'utf8')) as { edsToVoxel: Affine2to3; quality: { coverage: number } };
    const e = registrationError(json.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(0.5);
    expect(json.quality.coverage).toBeGreaterThan(0.9);
  });

  it('fails with exit code 1 and a message on bad arguments', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      await main(['--map', 'a.png']);
    } finally {
      console.error = orig;
    }
    expect(process.exitCode).toBe(1);
    expect(errors.join('\n')).toMatch(/--volume is required/);
    process.exitCode = 0;
  });
});
