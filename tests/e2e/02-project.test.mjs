import assert from 'node:assert/strict';
import { screenshot, test, waitFor } from './harness.mjs';
import { makeTruncatedTiff } from './tiff-fixture.mjs';
import { openDemo } from './nav.mjs';

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
  await page.getByRole('link', { name: 'Correlate' }).click();
  await page.getByTestId('step-unavailable').waitFor();
  await screenshot(page, 'project-correlate');
  await page.getByRole('link', { name: 'Data' }).click();
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
