/**
 * The mineralogy workflow from upload to downloaded results, as a new user would run it on their
 * own files: a synthetic sandstone written by `petromap synth` (volume.nrrd, EDS map + legend +
 * BSE zipped), uploaded through the Data step, auto-registered and accepted on Correlate, trained
 * and predicted on Train, and a table downloaded from Results.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { screenshot, test, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function writeSample() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-sample-'));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'petromap.mjs'), 'synth', dir, '--seed', '7', '--options', '{"shape":[48,112,112]}'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `petromap synth: ${r.stderr}`);
  const info = JSON.parse(r.stdout);
  const file = (n) => readFileSync(path.join(dir, n));
  const zip = Buffer.from(zipSync({
    'eds-map.png': file('eds-map.png'),
    'eds-legend.csv': file('eds-legend.csv'),
    'bse.png': file('bse.png'),
    'info.json': Buffer.from(JSON.stringify({ pixelSizeUm: info.eds.pixelSizeUm })),
  }));
  return { dir, volume: file('volume.nrrd'), zip };
}

test('mineralogy from upload: upload volume and EDS map, register, train, predict, download', async ({ page, baseUrl }) => {
  const sample = writeSample();
  try {
    await createProject(page, baseUrl, 'Uploaded sandstone');
    const projectUrl = page.url();
    const rows = page.getByTestId('dataset-table').locator('tbody tr');
    await page.getByTestId('file-volume').setInputFiles({ name: 'core-7.nrrd', mimeType: 'application/octet-stream', buffer: sample.volume });
    await waitFor(async () => (await rows.count()) === 1, 'the volume in the dataset table', 120_000);
    await page.getByTestId('file-eds').setInputFiles({ name: 'core-7-eds.zip', mimeType: 'application/zip', buffer: sample.zip });
    await waitFor(async () => (await rows.count()) === 2, 'the EDS map in the dataset table', 120_000);
    const table = await page.getByTestId('dataset-table').innerText();
    assert.match(table, /core-7\.nrrd/);
    assert.match(table, /Quartz/i);
    await screenshot(page, 'upload-flow-data');

    await page.goto(`${projectUrl}/correlate`);
    await page.getByTestId('surface-line').waitFor({ timeout: 60_000 });
    await page.getByTestId('auto-register').click();
    await page.getByTestId('auto-result').waitFor({ timeout: 240_000 });
    await waitFor(async () => /coverage \d+/.test(await page.getByTestId('quality-line').innerText()), 'registration quality (coverage of the map)', 30_000);
    await page.getByTestId('accept').click();
    await page.getByTestId('accepted-badge').waitFor({ timeout: 30_000 });
    await screenshot(page, 'upload-flow-correlate');

    await page.goto(`${projectUrl}/train`);
    await page.getByTestId('train-step').waitFor({ timeout: 30_000 });
    await page.getByTestId('preset-fast').click();
    await waitFor(async () => /\b7\s*features/.test(await page.getByTestId('feature-estimate').innerText()), 'the fast preset');
    await page.getByTestId('train-button').click();
    await page.getByTestId('confusion-matrix').waitFor({ timeout: 240_000 });
    await page.getByTestId('predict-button').click();
    await page.getByTestId('prediction-status').waitFor({ timeout: 400_000 });
    assert.match(await page.getByTestId('prediction-status').innerText(), /See the results/);
    await screenshot(page, 'upload-flow-train');

    await page.goto(`${projectUrl}/results`);
    await page.getByTestId('results-step').waitFor({ timeout: 60_000 });
    const modal = await page.getByTestId('modal-table').innerText();
    assert.match(modal, /quartz\s+\d+\.\d\s+\d+\.\d/, modal);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('dl-modal-csv').click()]);
    const csv = readFileSync(await dl.path(), 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n'); // lib/report CSV: UTF-8 BOM, CRLF
    assert.equal(csv[0], 'class,name,voxels,volume_percent,eds_pixels,eds_area_percent');
    await screenshot(page, 'upload-flow-results');
  } finally {
    rmSync(sample.dir, { recursive: true, force: true });
  }
}, { timeoutMs: 900_000 });
