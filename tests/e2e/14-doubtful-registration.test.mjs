/**
 * A map whose pixel size is wrong (0.6x of the true one, as a mistyped export would give): the
 * automatic registration lands far off (82 voxels on this sample), and the Correlate page says that
 * nothing confirms it (lib/registration/confidence.ts), in words, next to the alignment figures;
 * the Accept button becomes "I checked the overlay — use this registration", and Train waits for it.
 * Sample: the confidence measurement's style A seed 17, 24×128×128 (docs/registration-confidence.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { screenshot, test, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function writeSample() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-doubt-'));
  const lib = (f) => pathToFileURL(path.join(ROOT, 'lib', 'synthetic', f)).href;
  const script = `
    import { generateSandstone } from ${JSON.stringify(lib('index.ts'))};
    import { writeSyntheticSample } from ${JSON.stringify(lib('write-sample-node.ts'))};
    const s = generateSandstone({ shape: [24, 128, 128], voxelUm: 2, seed: 17, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 629,
      eds: { rotationDeg: 901, pixelUm: 1.4, mirrored: false, offsetVox: { x: 4, y: 0 } } });
    await writeSyntheticSample(${JSON.stringify(dir)}, s);
    console.log(JSON.stringify({ px: s.eds.pixelSizeUm }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `writing the sample: ${r.stderr}`);
  const { px } = JSON.parse(r.stdout.trim().split('\n').pop());
  const file = (n) => readFileSync(path.join(dir, n));
  const map = Buffer.from(zipSync({ 'eds-map.png': file('eds-map.png'), 'eds-legend.csv': file('eds-legend.csv'), 'info.json': Buffer.from(JSON.stringify({ pixelSizeUm: +(0.6 * px).toFixed(4) })) }));
  return { dir, volume: file('volume.nrrd'), map };
}

test('a registration nothing confirms: Correlate says so, and it is used only once the overlay is confirmed', async ({ page, baseUrl }) => {
  const sample = writeSample();
  try {
    await createProject(page, baseUrl, 'Map with a wrong pixel size');
    const projectUrl = page.url();
    const rows = page.getByTestId('dataset-table').locator('tbody tr');
    await page.getByTestId('file-volume').setInputFiles({ name: 'core-17.nrrd', mimeType: 'application/octet-stream', buffer: sample.volume });
    await waitFor(async () => (await rows.count()) === 1, 'the volume in the dataset table', 120_000);
    await page.getByTestId('file-eds').setInputFiles({ name: 'core-17-map.zip', mimeType: 'application/zip', buffer: sample.map });
    await waitFor(async () => (await rows.count()) === 2, 'the map in the dataset table', 120_000);

    await page.goto(`${projectUrl}/correlate`);
    await page.getByTestId('surface-line').waitFor({ timeout: 60_000 });
    await waitFor(async () => !/not found yet/.test(await page.getByTestId('surface-line').innerText()), 'the surface', 120_000);
    await page.getByTestId('auto-register').click();
    await page.getByTestId('auto-result').waitFor({ timeout: 240_000 });
    assert.match(await page.getByTestId('auto-result').innerText(), /finished, but nothing confirms the result/);
    assert.match(await page.getByTestId('confidence-verdict').innerText(), /doubtful/);
    const doubt = await page.getByTestId('registration-doubt').innerText();
    assert.match(doubt, /Nothing confirms this registration: .*voxel|could not be measured/);
    assert.match(doubt, /pixel size of the map or voxel size of the scan[\s\S]*I checked the overlay — use this registration[\s\S]*landmark pairs/);
    assert.equal(await page.getByTestId('accept').count(), 0, 'no plain Accept for a doubtful registration');
    await screenshot(page, 'correlate-doubtful');

    await page.getByTestId('accept-checked').click();
    await page.getByTestId('accepted-badge').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('accepted-badge').innerText(), /accepted \(overlay checked by you\)/);
    await page.getByTestId('accepted-next').waitFor({ timeout: 10_000 });
  } finally {
    rmSync(sample.dir, { recursive: true, force: true });
  }
});
