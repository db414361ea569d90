/**
 * Issue 16 §2: a zipped TESCAN TIMA project holding several datasets, uploaded on the Data step.
 * The import lists them in a dialog (sample names from the project files); the one picked is
 * imported under its sample name, and its legend shows minor phases grouped and "not measured"
 * apart from "unclassified". Data: the synthetic TIMA project writer (lib/synthetic/tima-node.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { register } from 'tsx/esm/api';
import { screenshot, test, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

register();
const { writeSyntheticTimaProject } = await import('../../lib/synthetic/tima-node.ts');

/** Every file under dir as { 'rel/path': bytes }, for fflate. */
function filesOf(dir, rel = '') {
  const out = {};
  for (const name of readdirSync(path.join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(dir, r)).isDirectory()) Object.assign(out, filesOf(dir, r));
    else out[r] = readFileSync(path.join(dir, r));
  }
  return out;
}

test('TIMA project upload: pick one of several datasets in the dialog', async ({ page, baseUrl }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-tima-'));
  try {
    const proj = await writeSyntheticTimaProject(path.join(dir, 'export'));
    const zip = Buffer.from(zipSync(filesOf(proj.root)));
    const chosen = proj.datasets.find((d) => d.sampleName === 'GX-202');

    await createProject(page, baseUrl, 'TIMA project');
    await page.getByTestId('file-eds').setInputFiles({ name: 'Demo-TIMA.zip', mimeType: 'application/zip', buffer: zip });
    const dialog = page.getByTestId('tima-picker');
    await dialog.waitFor({ timeout: 120_000 });
    const listed = await dialog.innerText();
    assert.match(listed, /Demo-TIMA\.zip holds 2 TIMA datasets/);
    assert.match(listed, /GX-101/);
    assert.match(listed, /GX-202/);
    assert.equal(await page.getByTestId('tima-import').isDisabled(), true, 'Import waits for a choice');
    await screenshot(page, 'tima-picker');

    await page.getByTestId(`tima-choice-${chosen.guid}`).check();
    await page.getByTestId('tima-import').click();
    const rows = page.getByTestId('dataset-table').locator('tbody tr');
    await waitFor(async () => (await rows.count()) === 1, 'the chosen dataset in the dataset table', 120_000);
    assert.equal(await dialog.count(), 0, 'the dialog closed');
    const row = await rows.first().innerText();
    assert.match(row, /GX-202/);
    assert.doesNotMatch(row, new RegExp(chosen.guid), 'named by its sample, not its GUID');
    assert.match(row, /not measured \d/);
    assert.match(row, /2 minor phases \(< 10 px each\)/);
    await screenshot(page, 'tima-picked-dataset');

    await rows.first().getByRole('link', { name: 'GX-202' }).click();
    await page.getByTestId('eds-view').waitFor({ timeout: 60_000 });
    const legend = page.getByTestId('eds-view').getByTestId('eds-legend');
    await legend.getByTestId('legend-not-measured').waitFor();
    assert.match(await legend.innerText(), /unclassified[\s\S]*not measured/);
    await legend.getByTestId('legend-minor').locator('summary').click();
    assert.match(await legend.getByTestId('legend-minor-names').innerText(), /Zircon \(4 px\), Monazité \(1 px\)/);
    await screenshot(page, 'tima-legend');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { timeoutMs: 300_000 });
