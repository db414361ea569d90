/**
 * `petromap run` stops before training on a registration nothing confirms: an EDS map given a wrong
 * pixel size (0.6x) registers 82 voxels off on this sample; before, run trained on it and only warned
 * at the end. Now it exits with the measurement, the likely causes and what to do, registration.json
 * written (marked doubtful) and no model; the command it gives (--accept-registration, the same
 * --out, which holds only the stopped run and is reused) trains on it anyway, with the warning.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as runMain } from '../../../lib/cli/run';
import { saveMineralMap } from '../../../lib/eds/store-node';
import { isPetromapError } from '../../../lib/errors';
import { generateSandstone } from '../../../lib/synthetic';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { capture } from './cli-session';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-cli-doubt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const store = join(tmp, 'scan.ome.zarr');
const mapDir = join(tmp, 'map-wrong-pixel');

beforeAll(async () => {
  // the measurement's style A sample, seed 17 (docs/registration-confidence.md)
  const s = generateSandstone({
    shape: [24, 128, 128], voxelUm: 2, seed: 17, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 37 * 17,
    eds: { rotationDeg: 53 * 17, pixelUm: 1.4, mirrored: false, offsetVox: { x: ((17 * 7) % 11) - 5, y: ((17 * 5) % 9) - 4 } },
  });
  await writeDenseVolume(store, s.volume, { chunk: [24, 64, 64] });
  await saveMineralMap(mapDir, { ...s.eds, pixelSizeUm: 0.6 * s.eds.pixelSizeUm });
}, 60_000);

/** the command's stdout, stderr and its exit code or the error it threw */
const run = async (argv: string[]) => {
  const r = await capture(() => runMain(argv).catch((x: unknown) => x as never));
  return { ...r, code: r.code as unknown };
};

describe('petromap run on a doubtful registration', () => {
  it('stops before training, says what was measured and what to check; the registration is written and marked doubtful', async () => {
    const out = join(tmp, 'stopped');
    const r = await run(['--volume', store, '--eds', mapDir, '--out', out, '--threads', '1']);
    expect(isPetromapError(r.code)).toBe(true);
    const msg = (r.code as Error).message;
    expect(msg).toMatch(/^stopped before training: nothing confirms the registration of the EDS map: /);
    expect(msg).toMatch(/% of the map lies on the volume\. At 0\.84 µm per pixel the map is/);
    expect(msg).toMatch(/--pixel-um.*--spacing.*--face bottom/);
    expect(msg).toMatch(/--landmarks pairs\.json/);
    // the exact command that trains on it, on the same --out (review R3: that folder was refused as an unfinished run)
    expect(msg).toContain(`train on it with (the same --out: a folder holding only a run stopped here is reused): petromap run --volume ${store} --eds ${mapDir} --out ${out} --threads 1 --accept-registration`);
    // engineer P's scale search, ready to run on these inputs
    expect(msg).toContain(`To measure which pixel size the map matches best: petromap check-scale --volume ${store} --map ${mapDir}.`);
    const reg = JSON.parse(readFileSync(join(out, 'registration.json'), 'utf8'));
    expect(reg.quality.confidence.verdict).toBe('doubtful');
    expect(existsSync(join(out, 'model'))).toBe(false);
    expect(r.out).toBe('');
  }, 120_000);

  it('the command the stop gives (--accept-registration, the same --out) trains on it and warns', async () => {
    const out = join(tmp, 'stopped');
    const r = await run(['--volume', store, '--eds', mapDir, '--out', out, '--threads', '1', '--accept-registration']);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`petromap run: reusing ${out}: it held only a run stopped before training on its registration`);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).stoppedAt).toBeUndefined();
    expect(r.err).toMatch(/warning: nothing confirms this registration: /);
    expect(JSON.parse(r.out).files.model ?? JSON.parse(r.out).files).toBeTruthy();
    expect(existsSync(join(out, 'model'))).toBe(true);
  }, 180_000);
});
