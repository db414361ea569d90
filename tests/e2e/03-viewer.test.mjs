import assert from 'node:assert/strict';
import { canvasStats, screenshot, test, waitFor } from './harness.mjs';
import { openDemo } from './nav.mjs';

async function openVolume(page, baseUrl) {
  await openDemo(page, baseUrl);
  await page.getByTestId('dataset-table').locator('tr', { hasText: /volume/i }).getByRole('link').first().click();
  await page.getByTestId('ortho-viewer').waitFor({ timeout: 20_000 });
}

/** Wait until a panel has drawn a loaded slice whose URL matches `re`, then return its stats. */
async function loadedStats(page, name, re = /slice/) {
  const sel = `[data-testid="canvas-${name}"]`;
  await waitFor(async () => re.test((await page.getAttribute(sel, 'data-src')) ?? ''), `${name} slice loaded (${re})`, 30_000);
  await page.waitForTimeout(100); // one frame for the draw effect
  return canvasStats(page, sel);
}

test('viewer shows real image content in XY, XZ and YZ', async ({ page, baseUrl }) => {
  await openVolume(page, baseUrl);
  for (const name of ['XY', 'XZ', 'YZ']) {
    const s = await loadedStats(page, name);
    assert.ok(s.distinct > 10 && s.std > 5, `${name} canvas should show an image, got ${JSON.stringify(s)}`);
  }
  // The window comes from the histogram (auto 1–99 %): both inputs are filled.
  await waitFor(async () => (await page.getByTestId('win-min').inputValue()) !== '', 'auto window');
  await screenshot(page, 'viewer');

  // Dragging the histogram's max handle to the left narrows the window and changes the image.
  const xy = await loadedStats(page, 'XY');
  const max0 = Number(await page.getByTestId('win-max').inputValue());
  const hb = await page.getByTestId('hist-max').boundingBox();
  await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
  await page.mouse.down();
  await page.mouse.move(hb.x - 80, hb.y + hb.height / 2, { steps: 5 });
  await page.mouse.up();
  await waitFor(async () => Number(await page.getByTestId('win-max').inputValue()) < max0, 'window max to drop');
  await waitFor(async () => (await canvasStats(page, '[data-testid="canvas-XY"]')).hash !== xy.hash, 'XY to redraw with the new window', 15_000);
});

test('slider and keyboard change the slice; a click moves the other panels', async ({ page, baseUrl }) => {
  await openVolume(page, baseUrl);
  const before = await loadedStats(page, 'XY');
  const idx0 = await page.getByTestId('index-XY').innerText();
  const slider = page.getByTestId('slider-XY');
  const max = Number(await slider.getAttribute('max'));
  await slider.fill(String(Math.floor(max / 5)));
  await waitFor(async () => (await page.getByTestId('index-XY').innerText()) !== idx0, 'XY index label to change');
  await waitFor(async () => (await canvasStats(page, '[data-testid="canvas-XY"]')).hash !== before.hash, 'XY image to change', 15_000);
  const after = await loadedStats(page, 'XY');
  assert.ok(after.distinct > 10, `the new slice is an image too: ${JSON.stringify(after)}`);

  // Keyboard: focus the panel, PageUp steps 10 slices.
  const i1 = Number((await page.getByTestId('index-XY').innerText()).split('/')[0]);
  await page.getByTestId('panel-XY').focus();
  await page.keyboard.press('PageUp');
  await waitFor(async () => Number((await page.getByTestId('index-XY').innerText()).split('/')[0]) === Math.min(max, i1 + 10), 'PageUp +10');

  // Linked crosshair: clicking near the left edge of XY moves the YZ slice (x) there.
  const yz0 = await page.getByTestId('index-YZ').innerText();
  const box = await page.locator('[data-testid="canvas-XY"]').boundingBox();
  await page.mouse.click(box.x + box.width / 2 - box.height * 0.3, box.y + box.height / 2);
  await waitFor(async () => (await page.getByTestId('index-YZ').innerText()) !== yz0, 'YZ slice to follow the click');
  // Wheel zooms the panel under the pointer.
  const zoomText = () => page.getByTestId('panel-XY').locator('.overlay-text').innerText();
  const z0 = await zoomText();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -400);
  await waitFor(async () => (await zoomText()) !== z0, 'XY zoom to change');
  await screenshot(page, 'viewer-stepped');
});

test('EDS map shows with its legend', async ({ page, baseUrl }) => {
  await openDemo(page, baseUrl);
  await page.getByTestId('dataset-table').locator('tr', { hasText: 'EDS' }).getByRole('link').first().click();
  await page.getByTestId('eds-view').waitFor({ timeout: 20_000 });
  const legend = await page.getByTestId('eds-legend').innerText();
  for (const name of ['Quartz']) assert.match(legend, new RegExp(name, 'i'), `legend lists ${name}: ${legend}`);
  assert.match(legend, /\d+\.\d %/, 'area % per mineral');
  const sel = '[data-testid="eds-canvas"]';
  await waitFor(async () => /eds\.png/.test((await page.getAttribute(sel, 'data-src')) ?? ''), 'EDS map image');
  await page.waitForTimeout(100);
  const s = await canvasStats(page, sel);
  assert.ok(s.distinct > 2 && s.std > 5, `EDS canvas should show the map: ${JSON.stringify(s)}`);
  await screenshot(page, 'eds');
  const bse = page.getByTestId('bse-toggle');
  if (await bse.count()) {
    await bse.check();
    await waitFor(async () => /bse\.png/.test((await page.getAttribute(sel, 'data-src')) ?? ''), 'BSE image');
    await screenshot(page, 'eds-bse');
  }
});
