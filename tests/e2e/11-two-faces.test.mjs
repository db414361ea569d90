/**
 * A sample mapped on both polished faces (issue 15 §1), as a mineralogist runs it: the volume, the
 * top face's EDS map and the bottom face's map uploaded on the Data step (the bottom one in its own
 * zone), each face registered and accepted on Correlate (face selector), one model trained on the
 * labels of both faces on Train, predicted, and Results shows each face's 2D shares (table, bar
 * chart, depth profile, CSV).
 * Then a wrong map given as the bottom face (the top face's map again) is refused in words on
 * Correlate, named as uploaded, and the bottom face keeps its earlier map and registration; deleted
 * on the Data step, it goes without taking the bottom face's registration. Sample: lib/synthetic/two-faces.ts, 48×112×112.
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

/** The two-face sample as a user's files: volume.nrrd, the top map's zip and the bottom map's zip (written through tsx, as bin/petromap.mjs runs lib). */
function writeSample() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-two-faces-'));
  const lib = (f) => pathToFileURL(path.join(ROOT, 'lib', 'synthetic', f)).href;
  const script = `
    import { writeFile } from 'node:fs/promises';
    import { encode } from 'fast-png';
    import { generateTwoFaceSandstone } from ${JSON.stringify(lib('two-faces.ts'))};
    import { legendCsv, mapRgb, writeSyntheticSample } from ${JSON.stringify(lib('write-sample-node.ts'))};
    const s = generateTwoFaceSandstone({ shape: [48, 112, 112], seed: 4, grainDiameterVox: 14 });
    const dir = ${JSON.stringify(dir)};
    await writeSyntheticSample(dir, s);
    const b = s.bottom.eds;
    await writeFile(dir + '/bottom-map.png', encode({ width: b.width, height: b.height, data: mapRgb(b), channels: 3, depth: 8 }));
    await writeFile(dir + '/bottom-legend.csv', legendCsv(b));
    console.log(JSON.stringify({ top: s.eds.pixelSizeUm, bottom: b.pixelSizeUm }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `writing the two-face sample: ${r.stderr}`);
  const px = JSON.parse(r.stdout.trim().split('\n').pop());
  const file = (n) => readFileSync(path.join(dir, n));
  const zip = (map, legend, pixelSizeUm, bse) => Buffer.from(zipSync({
    'eds-map.png': file(map), 'eds-legend.csv': file(legend), ...(bse ? { 'bse.png': file(bse) } : {}),
    'info.json': Buffer.from(JSON.stringify({ pixelSizeUm })),
  }));
  return { dir, volume: file('volume.nrrd'), top: zip('eds-map.png', 'eds-legend.csv', px.top, 'bse.png'), bottom: zip('bottom-map.png', 'bottom-legend.csv', px.bottom) };
}

/** Auto-register the face shown and wait for the job's end; returns its one-line result. */
async function autoRegister(page) {
  await page.getByTestId('surface-line').waitFor({ timeout: 60_000 });
  await waitFor(async () => !/not found yet/.test(await page.getByTestId('surface-line').innerText()), 'the surface of this face', 120_000);
  await page.getByTestId('auto-register').click();
  await page.getByTestId('auto-result').waitFor({ timeout: 240_000 });
  return page.getByTestId('auto-result').innerText();
}

test('two mapped faces: upload the bottom face\'s map, register each face, train on both', async ({ page, baseUrl }) => {
  const sample = writeSample();
  try {
    await createProject(page, baseUrl, 'Core mapped on both faces');
    const projectUrl = page.url();
    const rows = page.getByTestId('dataset-table').locator('tbody tr');
    await page.getByTestId('file-volume').setInputFiles({ name: 'core-4.nrrd', mimeType: 'application/octet-stream', buffer: sample.volume });
    await waitFor(async () => (await rows.count()) === 1, 'the volume in the dataset table', 120_000);
    await page.getByTestId('file-eds').setInputFiles({ name: 'core-4-top.zip', mimeType: 'application/zip', buffer: sample.top });
    await waitFor(async () => (await rows.count()) === 2, 'the top map in the dataset table', 120_000);
    await page.getByTestId('file-eds-bottom').setInputFiles({ name: 'core-4-bottom.zip', mimeType: 'application/zip', buffer: sample.bottom });
    await waitFor(async () => (await rows.count()) === 3, 'the bottom map in the dataset table', 120_000);
    assert.match(await page.getByTestId('dataset-table').innerText(), /EDS map · bottom face/);
    await screenshot(page, 'two-faces-data');

    // the top face, as a project with one map
    await page.goto(`${projectUrl}/correlate`);
    assert.match(await page.getByTestId('face-selector').innerText(), /Top face\s*core-4-top\.zip[\s\S]*Bottom face\s*core-4-bottom\.zip/);
    assert.match(await autoRegister(page), /finished/);
    await page.getByTestId('accept').click();
    await page.getByTestId('accepted-badge').waitFor({ timeout: 30_000 });

    // the bottom face: its own surface, registration and overlay
    await page.getByTestId('face-bottom').click();
    await page.waitForURL(/face=bottom/);
    await waitFor(async () => /Bottom surface/.test(await page.getByTestId('surface-line').innerText().catch(() => '')), 'the bottom face page', 60_000);
    assert.match(await autoRegister(page), /finished/);
    await waitFor(async () => /coverage \d+/.test(await page.getByTestId('quality-line').innerText()), 'the bottom registration quality', 30_000);
    // the mutual information: once when the refinement kept the search's pose, before → after when it moved it (never "x → x")
    const mi = await page.getByTestId('mi-line').innerText();
    assert.match(mi, /mutual information [\d.]+ (\(at the automatic search's pose: the refinement kept it\)|at the automatic search's pose → [\d.]+ refined)/, mi);
    assert.doesNotMatch(mi, /([\d.]+) at [^→]*→ \1 /, mi);
    assert.match(await page.getByTestId('surface-line').innerText(), /above the bottom of the volume/);
    await page.getByTestId('view-overlay').click();
    await page.getByTestId('overlay-controls').waitFor({ timeout: 10_000 });
    await page.getByTestId('accept').click();
    await page.getByTestId('accepted-badge').waitFor({ timeout: 30_000 });
    await waitFor(async () => /core-4-top\.zip · accepted[\s\S]*core-4-bottom\.zip · accepted/.test(await page.getByTestId('face-selector').innerText()), 'both faces accepted in the selector', 15_000);
    await page.waitForTimeout(1000); // the overlay image
    await screenshot(page, 'two-faces-correlate-bottom');

    // Train: one model on the labels of both faces
    await page.goto(`${projectUrl}/train`);
    await page.getByTestId('train-step').waitFor({ timeout: 30_000 });
    await waitFor(async () => /both polished faces/.test(await page.getByTestId('train-faces').innerText()), 'Train taking both faces', 30_000);
    await page.getByTestId('preset-fast').click();
    await waitFor(async () => /\b7\s*features/.test(await page.getByTestId('feature-estimate').innerText()), 'the fast preset');
    // what this test checks (both faces' labels taken, each face's shares on Results) does not depend on the model's accuracy: few epochs
    await page.getByTestId('train-epochs').fill('4');
    await page.getByTestId('train-button').click();
    await page.getByTestId('confusion-matrix').waitFor({ timeout: 300_000 });
    await waitFor(async () => /on the labels of the top and the bottom face/.test(await page.getByTestId('model-summary').innerText()), 'the model trained on both faces', 30_000);
    await screenshot(page, 'two-faces-train');

    // Results: each face's 2D EDS shares beside the 3D ones, in the table and the CSV
    await page.getByTestId('predict-button').click();
    await page.getByTestId('prediction-status').waitFor({ timeout: 300_000 });
    await page.goto(`${projectUrl}/results`);
    await page.getByTestId('modal-table').waitFor({ timeout: 180_000 });
    assert.match(await page.getByTestId('modal-face-top').innerText(), /top face[\s\S]*core-4-top\.zip/);
    assert.match(await page.getByTestId('modal-face-bottom').innerText(), /bottom face[\s\S]*core-4-bottom\.zip/);
    const modal = await page.getByTestId('modal-table').innerText();
    assert.match(modal, /quartz\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d/, `3D, top 2D and bottom 2D columns: ${modal}`);
    // the bar chart: a 2D bar of each face beside each class's 3D bar, the legend naming each face's map
    const legend = await page.getByTestId('modal-chart-legend').textContent();
    assert.match(legend, /top face · core-4-top\.zip[\s\S]*bottom face · core-4-bottom\.zip/, legend);
    assert.ok(await page.locator('[data-testid^="modal-bar-top-"]').count() >= 4, 'a top-face bar per class');
    assert.equal(await page.locator('[data-testid^="modal-bar-bottom-"]').count(), await page.locator('[data-testid^="modal-bar-top-"]').count(), 'a bottom-face bar beside each top-face bar');
    // the depth profile: each face's 2D shares at its end, the bottom face's depth marked, and said in words
    await page.getByTestId('depth-face-top').waitFor();
    await page.getByTestId('depth-face-bottom').waitFor();
    await page.getByTestId('depth-bottom-face').waitFor({ state: 'attached' }); // a vertical line: no area, never 'visible'
    assert.match(await page.getByTestId('depth-faces-note').innerText(), /top \(left, at the top surface\) from core-4-top\.zip, bottom \(right\) from core-4-bottom\.zip, whose face lies \d+ µm below the top surface/);
    await page.getByTestId('modal-chart').scrollIntoViewIfNeeded();
    await screenshot(page, 'two-faces-results');
    const [csvDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('dl-modal-csv').click()]);
    const csv = readFileSync(await csvDl.path(), 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
    assert.equal(csv[0], 'class,name,voxels,volume_percent,top_eds_pixels,top_eds_area_percent,bottom_eds_pixels,bottom_eds_area_percent');
    const shares = (k) => csv.slice(1).reduce((a, l) => a + Number(l.split(',')[k]), 0);
    assert.ok(Math.abs(shares(5) - 100) < 0.01 && Math.abs(shares(7) - 100) < 0.01, `each face's 2D shares add up to 100 %: ${csv.join(' | ')}`);

    // a wrong bottom map (the top face's map again): refused in words, named as uploaded; it does not
    // become the bottom map: the one before it stays, with its accepted registration, and Train keeps both faces
    await page.goto(projectUrl);
    await page.getByTestId('file-eds-bottom').setInputFiles({ name: 'core-4-top-again.zip', mimeType: 'application/zip', buffer: sample.top });
    await waitFor(async () => (await rows.count()) === 4, 'the wrong bottom map in the dataset table', 120_000);
    await page.goto(`${projectUrl}/correlate?face=bottom`);
    const refused = await autoRegister(page);
    assert.match(refused, /Auto-register failed: The second EDS map \(core-4-top-again\.zip\), bottom face does not match the bottom face of the volume.*Is it a map of this sample, of that face\?/);
    assert.match(refused, /core-4-top-again\.zip is not used as the bottom face's map: core-4-bottom\.zip is again, with its registration \(accepted\)/);
    await waitFor(async () => /core-4-bottom\.zip · accepted/.test(await page.getByTestId('face-selector').innerText()), 'the earlier bottom map in the selector', 15_000);
    await page.getByTestId('accepted-badge').waitFor({ timeout: 15_000 });
    await screenshot(page, 'two-faces-wrong-bottom');
    await page.goto(projectUrl);
    await waitFor(async () => /refused as the bottom face/.test(await page.getByTestId('dataset-table').innerText()), 'the refused map marked on the Data step', 15_000);
    await screenshot(page, 'two-faces-wrong-bottom-data');
    // the refused map deleted from the Data step (confirmed): it goes, with what belonged to it only
    let question = '';
    page.once('dialog', (d) => { question = d.message(); void d.accept(); });
    await rows.filter({ hasText: 'core-4-top-again.zip' }).getByRole('button', { name: 'Delete' }).click();
    await waitFor(async () => (await rows.count()) === 3, 'the refused map deleted', 15_000);
    assert.match(question, /Delete the EDS map core-4-top-again\.zip\? Its registrations and overlays go with it/);
    assert.match(await page.getByTestId('dataset-table').innerText(), /core-4-bottom\.zip/);
    await page.goto(`${projectUrl}/train`);
    await waitFor(async () => /both polished faces/.test(await page.getByTestId('train-faces').innerText()), 'Train keeping both faces', 30_000);
    assert.match(await page.getByTestId('model-summary').innerText(), /top and the bottom face/);
  } finally {
    rmSync(sample.dir, { recursive: true, force: true });
  }
}, { timeoutMs: 900_000 });
