import assert from 'node:assert/strict';
import { canvasStats, screenshot, test, waitFor } from './harness.mjs';
import { openDemo } from './nav.mjs';

/** Open the demo's Correlate step and wait until the surface slab is drawn (found on first visit). */
async function openCorrelate(page, baseUrl) {
  await openDemo(page, baseUrl);
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: /Correlate/ }).click();
  await page.getByTestId('correlate').waitFor({ timeout: 30_000 });
  await waitFor(async () => /slab\.png/.test((await page.getAttribute('[data-testid="corr-slab"]', 'data-src')) ?? ''), 'the surface slab image', 90_000);
  await waitFor(async () => /eds\.png/.test((await page.getAttribute('[data-testid="corr-eds"]', 'data-src')) ?? ''), 'the EDS map image', 30_000);
}

/** Page position of the image point at fractions (fx, fy) of the image drawn in a stage. */
async function imagePoint(page, stage, fx, fy) {
  const box = await page.getByTestId(`${stage}-box`).boundingBox();
  const rect = (await page.getAttribute(`[data-testid="${stage}-box"]`, 'data-image-rect')).split(',').map(Number);
  return { x: box.x + rect[0] + fx * rect[2], y: box.y + rect[1] + fy * rect[3] };
}

async function clickAt(page, stage, fx, fy) {
  const p = await imagePoint(page, stage, fx, fy);
  await page.mouse.click(p.x, p.y);
}

const rowCount = (page) => page.getByTestId('residual-row').count();

test('correlate: landmark pairs are numbered on both images, fitted, and undone', async ({ page, baseUrl }) => {
  await openCorrelate(page, baseUrl);
  const surface = await page.getByTestId('surface-line').innerText();
  assert.match(surface, /depth\s+[\d.]+\s+voxels/, `surface depth shown: ${surface}`);
  assert.match(surface, /tilt\s+[\d.]+°/, `surface tilt shown: ${surface}`);
  const slabStats = await canvasStats(page, '[data-testid="corr-slab"]', { x0: 0.3, x1: 0.7, y0: 0.3, y1: 0.7 });
  assert.ok(slabStats.distinct > 10 && slabStats.std > 3, `the slab shows an XRM image: ${JSON.stringify(slabStats)}`);

  // The pointer reads the mineral on the EDS map and the grey value on the slab.
  const c = await imagePoint(page, 'corr-eds', 0.5, 0.5);
  await page.mouse.move(c.x, c.y);
  await waitFor(async () => /u \d+, v \d+ · [A-Za-z]/.test(await page.getByTestId('eds-readout').innerText()), 'EDS readout names a mineral');
  const g = await imagePoint(page, 'corr-slab', 0.5, 0.5);
  await page.mouse.move(g.x, g.y);
  await waitFor(async () => /grey \d+/.test(await page.getByTestId('slab-readout').innerText()), 'slab readout shows grey');

  // Start from no pairs (an earlier run may have left some in the stored registration).
  if (await page.getByTestId('lm-clear').isEnabled()) await page.getByTestId('lm-clear').click();
  const eds = [[0.25, 0.3], [0.72, 0.22], [0.62, 0.76], [0.3, 0.68]];
  const slab = [[0.3, 0.28], [0.7, 0.3], [0.6, 0.72], [0.28, 0.7]];
  for (let i = 0; i < 4; i++) {
    await clickAt(page, 'corr-eds', ...eds[i]);
    await clickAt(page, 'corr-slab', ...slab[i]);
  }
  for (let n = 1; n <= 4; n++) {
    for (const side of ['eds', 'slab']) {
      const m = page.getByTestId(`lm-${side}-${n}`);
      assert.equal(await m.count(), 1, `marker ${n} on the ${side} image`);
      assert.equal((await m.innerText()).trim(), String(n), `marker ${n} on ${side} is numbered ${n}`);
    }
  }
  await waitFor(async () => (await rowCount(page)) === 4, 'a residual table with 4 rows', 20_000);
  const table = await page.getByTestId('residual-table').innerText();
  assert.match(table, /RMS/, 'the table has an RMS line');
  await page.waitForTimeout(300);
  await screenshot(page, 'correlate-landmarks');

  // Ctrl+Z takes back the last click: pair 4 loses its slab point → 3 fitted pairs.
  await page.getByTestId('corr-eds-box').hover();
  await page.keyboard.press('Control+z');
  await waitFor(async () => (await rowCount(page)) === 3, 'the residual table to drop to 3 rows', 20_000);
  assert.equal(await page.getByTestId('lm-slab-4').count(), 0, 'slab marker 4 removed');
  assert.equal(await page.getByTestId('lm-eds-4').count(), 1, 'EDS marker 4 still waits for its match');

  // Dragging a marker moves its point and refits.
  const before = await page.getByTestId('residual-table').innerText();
  const mb = await page.getByTestId('lm-slab-2').boundingBox();
  await page.mouse.move(mb.x + mb.width / 2, mb.y + mb.height / 2);
  await page.mouse.down();
  await page.mouse.move(mb.x + mb.width / 2 + 30, mb.y + mb.height / 2 + 20, { steps: 5 });
  await page.mouse.up();
  await waitFor(async () => (await page.getByTestId('residual-table').innerText()) !== before, 'residuals to change after dragging marker 2', 20_000);
});

test('correlate: auto-register finds the demo pose within a voxel of the truth', async ({ page, baseUrl }) => {
  await openCorrelate(page, baseUrl);
  if (await page.getByTestId('lm-clear').isEnabled()) await page.getByTestId('lm-clear').click();
  await waitFor(async () => (await page.getByTestId('lm-eds-1').count()) === 0, 'pairs cleared');
  assert.match(await page.getByTestId('auto-register').innerText(), /^Auto-register$/, 'fully automatic (no pairs)');

  // Cancel works: start, cancel as soon as the job reports, and the page says so.
  await page.getByTestId('auto-register').click();
  const cancelled = await waitFor(async () => {
    if (await page.getByTestId('auto-cancel').count()) {
      await page.getByTestId('auto-cancel').click();
      return 'clicked';
    }
    return (await page.getByTestId('auto-result').count()) ? 'ended' : null;
  }, 'the Cancel button', 60_000);
  if (cancelled === 'clicked') {
    await page.getByTestId('auto-result').waitFor({ timeout: 60_000 });
    assert.match(await page.getByTestId('auto-result').innerText(), /cancelled|finished/i);
  }
  await waitFor(async () => page.getByTestId('auto-register').isEnabled(), 'Auto-register to be enabled again', 30_000);

  await page.getByTestId('auto-register').click();
  await page.getByTestId('auto-progress').waitFor({ timeout: 15_000 });
  // The progress bar with percent and ETA appears once the job reports (it may also finish first).
  const sawBar = await waitFor(async () => (await page.locator('.job-progress').count()) > 0 || (await page.getByTestId('auto-result').count()) > 0, 'progress or result', 60_000);
  if (sawBar && (await page.locator('.job-progress').count())) {
    assert.match(await page.getByTestId('auto-progress').innerText(), /\d+ %[\s\S]*ETA/, 'percent and ETA shown');
    await screenshot(page, 'correlate-auto-running');
  }
  await page.getByTestId('auto-result').waitFor({ timeout: 150_000 });
  const result = await page.getByTestId('auto-result').innerText();
  assert.match(result, /finished/i, `auto-register result: ${result}`);
  // what to do with it: the result is shown on the overlay, and the page says to check it, then accept
  assert.match(result, /check the fit on the overlay[\s\S]*then Accept registration/, result);
  assert.match((await page.getByTestId('view-overlay').getAttribute('class')) ?? '', /\bon\b/, 'the finished registration is shown on the overlay');
  const truth = await waitFor(async () => {
    const t = page.getByTestId('truth-error');
    return (await t.count()) ? t.innerText() : null;
  }, 'the ground-truth error in the quality line', 20_000);
  const m = /mean\s+([\d.]+)\s*\/\s*max\s+([\d.]+)\s+voxels/.exec(truth);
  assert.ok(m, `quality line names the error vs ground truth: ${truth}`);
  assert.ok(Number(m[1]) < 1, `mean error vs ground truth below 1 voxel: ${truth}`);
  const q = await page.getByTestId('quality-line').innerText();
  // MI at the search's pose and after refinement: one value when the refinement kept the pose, never "x → x"
  assert.match(q, /mutual information [\d.]+ (\(at the automatic search's pose: the refinement kept it\)|at the automatic search's pose → [\d.]+ refined)/, `MI before → after: ${q}`);
  assert.doesNotMatch(q, /([\d.]+) at [^→]*→ \1 /, `the same MI shown as before and after: ${q}`);
  assert.match(q, /coverage \d+ %/, `coverage: ${q}`);
  assert.match(await page.getByTestId('registration-line').innerText(), /automatic/);
}, { timeoutMs: 200_000 });

test('correlate: the transform model panel shows the model, its residual map, per-field shifts, and switches models (issue 19)', async ({ page, baseUrl }) => {
  await openCorrelate(page, baseUrl);
  const panel = page.getByTestId('model-panel');
  await panel.waitFor({ timeout: 30_000 });
  await waitFor(async () => /In use: (Similarity|Affine|Per-field)/.test(await page.getByTestId('model-in-use').innerText()), 'the model in use', 20_000);
  const inUse = /In use: (\w+)/.exec(await page.getByTestId('model-in-use').innerText())[1];
  assert.match(await page.getByTestId('model-reason').textContent(), /^(similarity|affine|fields)/, 'the reason for the model');
  assert.ok((await page.getByTestId('residual-cell').count()) >= 4, 'a residual map with patches');
  assert.match(await page.getByTestId('residual-summary').innerText(), /mean [\d.]+, max [\d.]+ voxel/);
  // switch: view the other global model, use it, and back
  const other = inUse === 'Affine' ? 'similarity' : 'affine';
  await page.getByTestId(`model-view-${other}`).click();
  await page.getByTestId('use-model').waitFor({ timeout: 10_000 });
  await screenshot(page, 'correlate-model-compare');
  await page.getByTestId('use-model').click();
  const want = other === 'affine' ? /In use: Affine/ : /In use: Similarity/;
  await waitFor(async () => want.test(await page.getByTestId('model-in-use').innerText()), `the ${other} model in use`, 20_000);
  assert.match(await page.getByTestId('model-reason').textContent(), /chosen on the Correlate page/);
  // per-field refinement of a 2 x 2 field grid: the fields candidate and its picture
  await page.getByTestId('field-cols').fill('2');
  await page.getByTestId('field-rows').fill('2');
  await page.getByTestId('refine-fields').click();
  await waitFor(async () => page.getByTestId('model-view-fields').isEnabled(), 'the per-field candidate', 150_000);
  await page.getByTestId('model-view-fields').click();
  await page.getByTestId('fields-map').waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId('field-cell').count(), 4, 'four fields drawn');
  assert.match(await page.getByTestId('fields-summary').innerText(), /Fields that moved: \d of 4/);
  await screenshot(page, 'correlate-model-fields');
}, { timeoutMs: 240_000 });

test('correlate: overlay modes show the warped EDS map; accept', async ({ page, baseUrl }) => {
  await openCorrelate(page, baseUrl);
  const sel = '[data-testid="corr-slab"]';
  const region = { x0: 0.25, x1: 0.75, y0: 0.3, y1: 0.7 };
  const plain = await canvasStats(page, sel, region);
  await page.getByTestId('view-overlay').click();
  const hashes = new Set([plain.hash]);
  for (const mode of ['blend', 'swipe', 'checkerboard', 'outlines']) {
    await page.getByTestId(`overlay-mode-${mode}`).click();
    const want = mode === 'outlines' ? /eds-on-slab\.png\?mode=outlines/ : /eds-on-slab\.png\?mode=labels/;
    await waitFor(async () => want.test((await page.getAttribute(sel, 'data-overlay-src')) ?? ''), `the ${mode} overlay image`, 30_000);
    await page.waitForTimeout(200);
    const s = await canvasStats(page, sel, region);
    assert.ok(s.distinct > 10, `${mode}: an image is drawn ${JSON.stringify(s)}`);
    hashes.add(s.hash);
    await screenshot(page, `correlate-${mode}`);
    if (mode === 'swipe') {
      // The divider can be dragged; the slider follows.
      const v0 = Number(await page.getByTestId('overlay-swipe').inputValue());
      const d = await page.getByTestId('swipe-divider').boundingBox();
      await page.mouse.move(d.x + d.width / 2, d.y + d.height / 2);
      await page.mouse.down();
      await page.mouse.move(d.x + d.width / 2 - 80, d.y + d.height / 2, { steps: 5 });
      await page.mouse.up();
      await waitFor(async () => Number(await page.getByTestId('overlay-swipe').inputValue()) < v0 - 5, 'the swipe divider to move left');
    }
  }
  assert.equal(hashes.size, 5, 'each overlay mode draws something different from the plain slab and from each other');

  // 'o' cycles the modes (outlines → blend).
  await page.getByTestId('corr-slab-box').hover();
  await page.keyboard.press('o');
  await waitFor(async () => /\bon\b/.test((await page.getByTestId('overlay-mode-blend').getAttribute('class')) ?? ''), "'o' to switch to blend");

  // Blend slider changes the picture.
  const b0 = await canvasStats(page, sel, region);
  await page.getByTestId('overlay-alpha').fill('90');
  await waitFor(async () => (await canvasStats(page, sel, region)).hash !== b0.hash, 'blend 90 % to redraw');

  await page.getByTestId('accept').click();
  await page.getByTestId('accepted-badge').waitFor({ timeout: 15_000 });
  // and what comes next, with its link
  await page.getByTestId('accepted-next').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('accepted-next').innerText(), /accepted[\s\S]*Next: Train →/);
  assert.match(await page.getByTestId('accepted-next').getByRole('link').getAttribute('href'), /\/train$/);
  assert.equal(await page.getByTestId('accept').isDisabled(), true, 'accept button disabled once accepted');
  await screenshot(page, 'correlate-accepted');
  // Accepted survives a reload.
  await page.reload();
  await page.getByTestId('accepted-badge').waitFor({ timeout: 20_000 });
  // and the Data step now points to Train, not to Correlate again
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: 'Data' }).click();
  await waitFor(async () => /registered and accepted\. Next: train the classifier[\s\S]*Train →/.test(await page.getByTestId('next-step').innerText()), "the Data step's next step after acceptance", 20_000);
});

test('correlate: minerals map to classes', async ({ page, baseUrl }) => {
  await openCorrelate(page, baseUrl);
  const table = page.getByTestId('class-map');
  const text = await table.innerText();
  assert.match(text, /Quartz/i, `legend lists quartz: ${text}`);
  assert.match(text, /\d+\.\d %/, 'area % per mineral');
  const select = table.locator('select').first();
  const id = await select.getAttribute('data-testid');
  const original = await select.inputValue();
  await select.selectOption('');
  await page.waitForResponse((r) => r.url().includes('correlate.setClassMap'), { timeout: 10_000 }).catch(() => {});
  await page.reload();
  await page.getByTestId('class-map').waitFor({ timeout: 20_000 });
  assert.equal(await page.getByTestId(id).inputValue(), '', 'the dropped mineral stays dropped after a reload');
  // Put it back so later steps (training) see the default mapping.
  await page.getByTestId(id).selectOption(original);
  await waitFor(async () => {
    await page.reload();
    await page.getByTestId('class-map').waitFor({ timeout: 20_000 });
    return (await page.getByTestId(id).inputValue()) === original;
  }, 'the original class to be restored', 20_000, 500);
});

test('correlate: a project without data says what is missing and links to the Data step', async ({ page, baseUrl }) => {
  await page.goto(`${baseUrl}/`);
  await page.getByTestId('new-project-name').fill('Correlate without data');
  await page.getByTestId('new-project-name').press('Enter');
  await page.waitForURL(/\/projects\/[a-z0-9]+/);
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: /Correlate/ }).click();
  const box = page.getByTestId('correlate-missing');
  await box.waitFor({ timeout: 20_000 });
  const text = await box.innerText();
  assert.match(text, /XRM volume/, text);
  assert.match(text, /EDS mineral map/, text);
  await box.getByRole('link', { name: /Data step/ }).click();
  await page.waitForURL(/\/projects\/[a-z0-9]+$/);
  await page.getByTestId('file-volume').waitFor({ state: 'attached', timeout: 20_000 });
});
