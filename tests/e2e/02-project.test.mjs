import assert from 'node:assert/strict';
import { screenshot, test, waitFor } from './harness.mjs';
import { makeTruncatedTiff } from './tiff-fixture.mjs';
import { createProject, openDemo } from './nav.mjs';

test('the demo project shows its datasets with metadata', async ({ page, baseUrl }) => {
  await openDemo(page, baseUrl);
  const table = page.getByTestId('dataset-table');
  const text = await table.innerText();
  assert.match(text, /volume/i);
  assert.match(text, /EDS/);
  assert.match(text, /µm/, 'spacing / pixel size with units');
  assert.match(text, /uint8|uint16|float32/, 'dtype');
  assert.match(text, /Quartz/i, 'EDS legend summary');
  assert.match(text, /unclassified/i);
  // with a volume and a map in, the page says what comes next and links it
  const next = page.getByTestId('next-step');
  await next.waitFor({ timeout: 10_000 });
  // (Correlate, or Train once another test has accepted the demo's registration)
  await waitFor(async () => /Next: (find the polished surface[\s\S]*Correlate|train the classifier[\s\S]*Train) →/.test(await next.innerText()), 'the next step', 10_000);
  assert.match(await next.getByRole('link').getAttribute('href'), /\/(correlate|train)$/);
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: 'Correlate' }).click();
  await page.getByTestId('correlate').waitFor();
  await screenshot(page, 'project-correlate');
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: 'Data' }).click();
  await table.waitFor();
  await screenshot(page, 'project-data');
});

test('uploading a truncated TIFF shows a clear error and leaves the datasets unchanged', async ({ page, baseUrl }) => {
  await openDemo(page, baseUrl);
  const rows = page.getByTestId('dataset-table').locator('tbody tr');
  const before = await rows.allInnerTexts();
  await page.getByTestId('file-volume').setInputFiles({
    name: 'truncated-scan.tif', mimeType: 'image/tiff', buffer: makeTruncatedTiff(),
  });
  const err = page.getByTestId('upload-error-volume');
  await err.waitFor({ timeout: 60_000 });
  const msg = await err.innerText();
  assert.match(msg, /truncated-scan\.tif/, `error names the file: ${msg}`);
  assert.match(msg, /truncat|incomplete|corrupt|end of file|short|cut off/i, `error says what is wrong: ${msg}`);
  assert.doesNotMatch(msg, /HTTP 500|Internal Server Error|undefined/, msg);
  await screenshot(page, 'upload-error');
  await page.reload();
  await page.getByTestId('dataset-table').waitFor();
  await waitFor(async () => (await rows.count()) === before.length, 'dataset rows after reload');
  assert.deepEqual(await rows.allInnerTexts(), before);
});

/** A small uint16 NRRD (raw encoding) with a few bright spheres, written in memory. */
function makeNrrd(nz = 12, ny = 40, nx = 48) {
  const header = `NRRD0004\ntype: uint16\ndimension: 3\nsizes: ${nx} ${ny} ${nz}\nspacings: 2 2 2\nencoding: raw\nendian: little\n\n`;
  const data = Buffer.alloc(nx * ny * nz * 2);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const r = Math.hypot(x - nx / 2, y - ny / 2, z - nz / 2);
    data.writeUInt16LE(r < 8 ? 30000 : 8000 + ((x * 131 + y * 71 + z * 37) % 900), 2 * ((z * ny + y) * nx + x));
  }
  return Buffer.concat([Buffer.from(header, 'latin1'), data]);
}

test('uploading an NRRD volume adds a dataset that opens in the viewer', async ({ page, baseUrl }) => {
  await createProject(page, baseUrl, 'Upload check');
  await page.getByTestId('file-volume').setInputFiles({ name: 'spheres.nrrd', mimeType: 'application/octet-stream', buffer: makeNrrd() });
  const rows = page.getByTestId('dataset-table').locator('tbody tr');
  await waitFor(async () => (await rows.count()) === 1, 'uploaded dataset row', 60_000);
  const text = await rows.first().innerText();
  assert.match(text, /spheres\.nrrd/);
  // a volume alone: the next thing is the EDS map, on this page
  await waitFor(async () => /Next: upload the EDS mineral map/.test(await page.getByTestId('next-step').innerText()), 'the next step: the EDS map', 10_000);
  assert.match(text, /48\s*[×x]\s*40\s*[×x]\s*12|12\s*[×x]\s*40\s*[×x]\s*48/, `shape shown: ${text}`);
  await screenshot(page, 'upload-done');
  await rows.first().locator('a').first().click();
  await page.getByTestId('ortho-viewer').waitFor({ timeout: 30_000 });
  await screenshot(page, 'uploaded-volume');
});
