/**
 * A new user's scan whose file gives no voxel size (a plain multi-page TIFF): the Data step says
 * the 1 µm it shows was assumed and what rests on it; uploaded again with the voxel size typed in
 * the volume box, the dataset reads that size and the note is gone. A size that is not one (“2,5µ”)
 * is refused in the box's words before anything is sent. With the two scans, the user makes the
 * second the one the project uses (asked first what that sets aside) and the Train step reads it.
 */
import assert from 'node:assert/strict';
import { screenshot, test, trpc, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';
import { makeTiffStack } from './tiff-fixture.mjs';

test('a scan without a voxel size: marked assumed, and the voxel-size box replaces it', async ({ page, baseUrl }) => {
  await createProject(page, baseUrl, 'Plug 7 (TIFF without voxel size)');
  const rows = page.getByTestId('dataset-table').locator('tbody tr');
  const tiff = { name: 'plug7.tif', mimeType: 'image/tiff', buffer: makeTiffStack(48, 40, 6) };
  await page.getByTestId('file-volume').setInputFiles(tiff);
  await waitFor(async () => (await rows.count()) === 1, 'the scan in the dataset table', 60_000);
  const note = page.getByTestId('spacing-assumed');
  await note.waitFor({ timeout: 10_000 });
  assert.match(await rows.first().innerText(), /1 µm \(isotropic\)\s*assumed: the file gives no voxel size/);
  await screenshot(page, 'voxel-size-assumed');

  // a typo in the box: refused before the upload, nothing added
  await page.getByTestId('voxel-size').fill('2,5µ');
  await page.getByTestId('file-volume').setInputFiles({ ...tiff, name: 'plug7-typo.tif' });
  await page.getByTestId('upload-error-volume').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('upload-error-volume').innerText(), /is not a size in µm/);
  assert.equal(await rows.count(), 1);

  await page.getByTestId('voxel-size').fill('2.5');
  await page.getByTestId('file-volume').setInputFiles({ ...tiff, name: 'plug7-2.5um.tif' });
  await waitFor(async () => (await rows.count()) === 2, 'the second upload in the table', 60_000);
  const second = rows.filter({ hasText: 'plug7-2.5um.tif' });
  assert.match(await second.innerText(), /2\.5 µm \(isotropic\)/);
  assert.match(await second.innerText(), /120 µm × 100 µm × 15 µm/);
  assert.doesNotMatch(await second.innerText(), /assumed/);
  // two volumes: the Data step says which one the project uses and how to use the other
  await page.getByTestId('in-use-note').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('in-use-note').innerText(), /The project uses the volume plug7\.tif: plug7-2\.5um\.tif is not used by Correlate, Train or Results\. To use it instead, click “Use this volume” on its row/);
  assert.match(await second.innerText(), /not used/);
  const first = rows.filter({ hasText: 'plug7.tif' }).first();
  assert.match(await first.innerText(), /in use/);
  await screenshot(page, 'voxel-size-given');

  // the user switches to the scan with its voxel size: asked first (what goes aside, what the other starts from), then it is the one in use
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
  await second.getByRole('button', { name: 'Use this volume' }).click();
  await waitFor(async () => /in use/.test(await second.innerText()), 'plug7-2.5um.tif in use after the switch', 15_000);
  assert.match(asked, /^Use the volume plug7-2\.5um\.tif for this project instead of plug7\.tif\?\n\nNothing was made from plug7\.tif yet\.\n\nplug7-2\.5um\.tif starts afresh: find its surface and register the EDS map on Correlate/);
  assert.match(await first.innerText(), /not used/);
  assert.match(await page.getByTestId('in-use-note').innerText(), /^The project uses the volume plug7-2\.5um\.tif: plug7\.tif is not used/);
  assert.equal(await first.getByRole('button', { name: 'Use this volume' }).count(), 1);
  assert.equal(await second.getByRole('button', { name: 'Use this volume' }).count(), 0);
  // the Train step reads the chosen volume (its 2.5 µm voxels)
  const st = await trpc(baseUrl, 'train.state', { projectId: page.url().split('/projects/')[1].split(/[/?#]/)[0] });
  assert.deepEqual(st.volume?.spacingUm, [2.5, 2.5, 2.5]);
  await screenshot(page, 'volume-switched');
}, { timeoutMs: 150_000 });
