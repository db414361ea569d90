/**
 * The remedy for a wrong EDS pixel size on the Correlate page: the map is uploaded at 0.6x its true
 * pixel size (as e2e 14), Auto-register lands far off and nothing confirms it; "Find the EDS pixel
 * size" runs the pixel-size search as a job (progress shown) and says at which size the map matches
 * best beside the given one; "Register at X µm" registers at that size from the pose found there: the
 * registration is confirmed (plain Accept, no "I checked the overlay"), says which size it used, and
 * lies within half a voxel of the generator's truth. Sample: e2e 14's (style A seed 17, 24×128×128).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { zipSync } from 'fflate';
import { screenshot, test, trpc, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function writeSample() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-pixel-size-'));
  const lib = (f) => pathToFileURL(path.join(ROOT, 'lib', 'synthetic', f)).href;
  const script = `
    import { generateSandstone } from ${JSON.stringify(lib('index.ts'))};
    import { writeSyntheticSample } from ${JSON.stringify(lib('write-sample-node.ts'))};
    const s = generateSandstone({ shape: [24, 128, 128], voxelUm: 2, seed: 17, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 629,
      eds: { rotationDeg: 901, pixelUm: 1.4, mirrored: false, offsetVox: { x: 4, y: 0 } } });
    await writeSyntheticSample(${JSON.stringify(dir)}, s);
    console.log(JSON.stringify({ px: s.eds.pixelSizeUm, width: s.eds.width, height: s.eds.height, truth: s.truth.edsToVoxel }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `writing the sample: ${r.stderr}`);
  const info = JSON.parse(r.stdout.trim().split('\n').pop());
  const file = (n) => readFileSync(path.join(dir, n));
  const given = +(0.6 * info.px).toFixed(4);
  const map = Buffer.from(zipSync({ 'eds-map.png': file('eds-map.png'), 'eds-legend.csv': file('eds-legend.csv'), 'info.json': Buffer.from(JSON.stringify({ pixelSizeUm: given })) }));
  return { dir, volume: file('volume.nrrd'), map, ...info, given };
}

/** Mean distance (voxels) between two EDS -> voxel transforms (9-vectors, rows z, y, x) over the map's pixels. */
function meanErrorVox(m, t, width, height) {
  let sum = 0;
  for (let v = 0; v < height; v += 2) for (let u = 0; u < width; u += 2) {
    const d = [0, 3, 6].map((r) => m[r] * u + m[r + 1] * v + m[r + 2] - (t[r] * u + t[r + 1] * v + t[r + 2]));
    sum += Math.hypot(...d);
  }
  return sum / (Math.ceil(height / 2) * Math.ceil(width / 2));
}

test('a wrong EDS pixel size: Find the EDS pixel size, Register at the size found, and the registration is confirmed', async ({ page, baseUrl }) => {
  const sample = writeSample();
  try {
    await createProject(page, baseUrl, 'Find the pixel size');
    const projectUrl = page.url();
    const projectId = decodeURIComponent(new URL(projectUrl).pathname.split('/').filter(Boolean).pop());
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
    assert.match(await page.getByTestId('confidence-verdict').innerText(), /doubtful/);
    assert.match(await page.getByTestId('registration-doubt').innerText(), /Find the EDS pixel size/);

    // the search: a job with its progress on the page, then what it found beside the given size
    await page.getByTestId('find-pixel-size').click();
    await page.getByTestId('pixel-size-progress').waitFor({ timeout: 30_000 });
    await page.getByTestId('pixel-size-result').waitFor({ timeout: 480_000 });
    const found = await page.getByTestId('pixel-size-result').innerText();
    const m = /matches the surface best at ([\d.]+) µm per pixel \(given ([\d.]+) µm\): the map's pixel size looks wrong/.exec(found);
    assert.ok(m, found);
    assert.ok(Math.abs(Number(m[1]) / sample.px - 1) < 0.02, `found ${m[1]} µm, true ${sample.px} µm`);
    assert.ok(Math.abs(Number(m[2]) - sample.given) < 0.01, `given ${m[2]} µm, uploaded at ${sample.given} µm`);
    await screenshot(page, 'correlate-pixel-size-found');

    // register at it, from the pose found there: confirmed, a plain Accept
    const before = (await trpc(baseUrl, 'correlate.state', { projectId, face: 'top' })).registration.createdAt;
    await page.getByTestId('register-at-found').click();
    await waitFor(async () => (await trpc(baseUrl, 'correlate.state', { projectId, face: 'top' })).registration?.createdAt !== before, 'the registration at the size found', 240_000, 1000);
    await waitFor(async () => /confirmed/.test(await page.getByTestId('confidence-verdict').innerText()), 'the confirmed verdict on the page', 30_000);
    assert.match(await page.getByTestId('registered-pixel-size').innerText(), new RegExp(`used ${m[1].replace('.', '\\.')} µm per EDS pixel.*recorded pixel size is ${m[2].replace('.', '\\.')} µm`));
    assert.equal(await page.getByTestId('accept-checked').count(), 0, 'a confirmed registration needs no overlay confirmation');
    assert.equal(await page.getByTestId('register-at-found').count(), 0, 'registered at that size already: no second Register at');
    const reg = (await trpc(baseUrl, 'correlate.state', { projectId, face: 'top' })).registration;
    assert.equal(reg.quality.confidence.verdict, 'confirmed');
    assert.ok(Math.abs(reg.pixelSize.usedUm / sample.px - 1) < 0.02);
    const err = meanErrorVox(reg.edsToVoxel, sample.truth, sample.width, sample.height);
    assert.ok(err < 0.5, `registered ${err.toFixed(2)} voxels from the truth`);
    await screenshot(page, 'correlate-registered-at-found-size');
    await page.getByTestId('accept').click();
    await page.getByTestId('accepted-badge').waitFor({ timeout: 30_000 });
    assert.doesNotMatch(await page.getByTestId('accepted-badge').innerText(), /overlay checked/);
  } finally {
    rmSync(sample.dir, { recursive: true, force: true });
  }
}, { timeoutMs: 900_000 });
