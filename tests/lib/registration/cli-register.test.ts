import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { main, USAGE } from '../../../lib/cli/register';
import { affine2to3FromJson } from '../../../lib/registration/transform-export';
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
    const json = JSON.parse(await readFile(out, 'utf8')) as { edsToVoxel: unknown; model: string; modelChoice: { reason: string }; transformFile: string; quality: { coverage: number } };
    // named axes (issue 16 §4): voxel x as a function of the EDS pixel
    expect(Object.keys(json.edsToVoxel as object)).toEqual(expect.arrayContaining(['x', 'y', 'z']));
    const e = registrationError(affine2to3FromJson(json.edsToVoxel), s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape);
    expect(e.mean).toBeLessThanOrEqual(0.5);
    expect(json.quality.coverage).toBeGreaterThan(0.9);
    expect(['similarity', 'affine']).toContain(json.model);
    expect(json.modelChoice.reason).toMatch(new RegExp(`^${json.model}`));
    const tp = await readFile(json.transformFile, 'utf8');
    expect(tp).toMatch(/\(Transform "AffineTransform"\)/);
    expect(tp).toMatch(new RegExp(`model: ${json.model}`));
    expect(existsSync(join(dir, 'registration.eds-labels.mha'))).toBe(true);
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

  it('refuses --model fields without the field grid, before any work', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errors.push(m);
    try {
      await main(['--volume', '.', '--map', 'package.json', '--model', 'fields']);
    } finally {
      console.error = orig;
    }
    expect(process.exitCode).toBe(1);
    expect(errors.join('\n')).toMatch(/--model fields needs the field grid/);
    process.exitCode = 0;
  });

  it('documents --model and the --json output in its USAGE', () => {
    expect(USAGE).toMatch(/--model auto\|similarity\|affine\|fields/);
    expect(USAGE).toMatch(/--json/);
    expect(USAGE).toMatch(/edsToVoxel: \{ from/);
  });
});
