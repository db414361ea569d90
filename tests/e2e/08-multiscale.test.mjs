/**
 * Multi-scale lithology end to end (issue 18): a lithology project with a low-resolution scan
 * (8 µm voxels: porous and tight bands, each voxel the mean of a 4×4×4 block of a 2 µm pore/grain
 * field), painted, trained and predicted, scan locations proposed; then a high-resolution interior
 * scan (2 µm, a crop of the same field across both bands) is uploaded within the Multi-scale step,
 * placed from a scan proposal and then by clicks on the large scan's views (no typed coordinates),
 * registered (quality views, footprint outlined, pore/solid preview), pore and solid voxels are
 * painted on it and the engine trained on them (then switched back to the threshold), and it is measured; the composite
 * model is read on its slice viewer (hover: porosity ± uncertainty and class), the composite model
 * (NRRD, OME-Zarr zip) and the class table (CSV) are downloaded and checked against the field's porosity.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { screenshot, test, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

const NZ = 24, NY = 48, NX = 64, SP = 8, R = 4;
const BAND = 16;
const porous = (x) => Math.floor(x / BAND) % 2 === 0;
/** interior: low-res voxels [8, 24) × [16, 32) × [24, 40) = 64³ hi-res voxels across the band edge at x = 32 */
const IN0 = [8, 16, 24], IN = 16;

function hash(x, y, z) {
  let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ Math.imul(z, 0x9e3779b1) ^ 0x5bd1e995;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}
/** smooth value noise (lattice 3 low-res voxels): texture to register on */
function noise(z, y, x) {
  const s = 3, fz = z / s, fy = y / s, fx = x / s;
  const z0 = Math.floor(fz), y0 = Math.floor(fy), x0 = Math.floor(fx);
  let v = 0;
  for (const dz of [0, 1]) for (const dy of [0, 1]) for (const dx of [0, 1]) {
    const w = (dz ? fz - z0 : 1 - fz + z0) * (dy ? fy - y0 : 1 - fy + y0) * (dx ? fx - x0 : 1 - fx + x0);
    v += w * hash(x0 + dx, y0 + dy, z0 + dz + 1000);
  }
  return v;
}
/** porosity of low-res voxel (z, y, x) */
const phi = (z, y, x) => (porous(x) ? 0.3 : 0.08) + 0.16 * (noise(z, y, x) - 0.5);
/** pore at canonical hi-res voxel (Z, Y, X) */
const pore = (Z, Y, X) => hash(X + 7, Y + 11, Z + 13) < phi(Math.floor(Z / R), Math.floor(Y / R), Math.floor(X / R));

const nrrd = (sizes, sp, data) => Buffer.concat([Buffer.from(`NRRD0004\ntype: uint8\ndimension: 3\nsizes: ${sizes.join(' ')}\nspacings: ${sp} ${sp} ${sp}\nencoding: raw\n\n`, 'latin1'), data]);

function makeScans() {
  const low = Buffer.alloc(NZ * NY * NX), hi = Buffer.alloc((IN * R) ** 3);
  let truthSum = 0, truthN = 0, hiPores = 0;
  const hiN = IN * R;
  for (let z = 0; z < NZ; z++) for (let y = 0; y < NY; y++) for (let x = 0; x < NX; x++) {
    let pores = 0;
    for (let a = 0; a < R; a++) for (let b = 0; b < R; b++) for (let c = 0; c < R; c++) {
      const p = pore(z * R + a, y * R + b, x * R + c);
      pores += p;
      const hz = (z - IN0[0]) * R + a, hy = (y - IN0[1]) * R + b, hx = (x - IN0[2]) * R + c;
      if (hz >= 0 && hy >= 0 && hx >= 0 && hz < hiN && hy < hiN && hx < hiN) {
        hi[(hz * hiN + hy) * hiN + hx] = (p ? 30 : 200) + Math.round((hash(hx, hy, hz) - 0.5) * 16);
        hiPores += p;
      }
    }
    const f = pores / R ** 3;
    truthSum += f; truthN++;
    low[(z * NY + y) * NX + x] = Math.round(30 * f + 200 * (1 - f) + (hash(x + 3, y + 5, z + 9) - 0.5) * 4);
  }
  // hiVoxels: the interior's voxels (the NRRD file `hi` has its header before them); hiTruth: its pore fraction
  return { low: nrrd([NX, NY, NZ], SP, low), hi: nrrd([hiN, hiN, hiN], SP / R, hi), hiVoxels: hi, hiTruth: hiPores / hiN ** 3, truth: truthSum / truthN };
}

async function voxelPoint(page, panel, wVox, hVox, u, v) {
  const box = await page.getByTestId(`paint-canvas-${panel}`).boundingBox();
  const wUm = wVox * SP, hUm = hVox * SP;
  const scale = Math.min(box.width / wUm, box.height / hUm) * 0.98;
  const ox = box.width / 2 - (wUm * scale) / 2, oy = box.height / 2 - (hUm * scale) / 2;
  return { x: box.x + ox + (u + 0.5) * SP * scale, y: box.y + oy + (v + 0.5) * SP * scale };
}

async function stroke(page, from, to) {
  const a = await voxelPoint(page, 'XY', NX, NY, ...from);
  const b = await voxelPoint(page, 'XY', NX, NY, ...to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps: 12 });
  await page.mouse.up();
  await waitFor(async () => (await page.getByTestId('paint-canvas-XY').getAttribute('data-saving')) === 'no', 'stroke saved');
}

test('multi-scale: paint, predict, propose, upload an interior scan in the step, place by proposal and click, register, paint pores and train, measure, view, download', async ({ page, baseUrl }) => {
  const scans = makeScans();
  await createProject(page, baseUrl, 'Banded plug (multi-scale)', 'lithology');
  await page.getByTestId('file-volume').setInputFiles({ name: 'banded-plug.nrrd', mimeType: 'application/octet-stream', buffer: scans.low });
  const rows = page.getByTestId('dataset-table').locator('tbody tr');
  await waitFor(async () => (await rows.count()) === 1 && /banded-plug/.test(await rows.first().innerText()), 'uploaded scan row', 60_000);

  // paint two classes on the XY slice, train and predict
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: 'Annotate' }).click();
  await page.getByTestId('annotate-step').waitFor({ timeout: 30_000 });
  for (const [i, name] of ['high porosity', 'low porosity'].entries()) {
    await page.getByTestId('new-class-name').fill(name);
    await page.getByTestId('add-class').click();
    await page.getByTestId(`class-row-${i + 1}`).waitFor();
  }
  await waitFor(async () => (await page.getByTestId('paint-canvas-XY').getAttribute('data-strokes-loaded')) === 'yes', 'painted XY slice loaded');
  await page.keyboard.press('1');
  await stroke(page, [7, 4], [7, 44]);
  await stroke(page, [40, 4], [40, 44]);
  await page.keyboard.press('2');
  await stroke(page, [23, 4], [23, 44]);
  await stroke(page, [56, 4], [56, 44]);
  await page.getByTestId('train-predict').click();
  await page.getByTestId('prediction-summary').waitFor({ timeout: 240_000 });
  for (const [k, v] of [['x', 128], ['y', 128], ['z', 128]]) await page.getByTestId(`fov-${k}`).fill(String(v));
  await page.getByTestId('propose').click();
  await page.getByTestId('proposals-table').waitFor({ timeout: 60_000 });

  // Multi-scale: upload the interior scan within the step; place it from a scan proposal, then by
  // clicking where it was taken on the large scan's views (no typed coordinates), register
  await page.getByRole('navigation', { name: 'Project steps' }).getByRole('link', { name: 'Multi-scale' }).click();
  await page.getByTestId('multiscale-step').waitFor({ timeout: 30_000 });
  await page.getByTestId('ms-no-candidates').waitFor();
  // why Measure waits, on the page (it was only the disabled button's tooltip)
  assert.equal(await page.getByTestId('ms-measure').isDisabled(), true);
  assert.match(await page.getByTestId('ms-measure-needs').innerText(), /^Measuring needs at least one registered interior scan/);
  await page.getByTestId('upload-volume').getByTestId('file-volume').setInputFiles({ name: 'interior-core.nrrd', mimeType: 'application/octet-stream', buffer: scans.hi });
  await page.getByTestId('ms-candidate').waitFor({ timeout: 180_000 }); // the import is a job: slow while the machine is loaded
  assert.match(await page.getByTestId('ms-scan-list').innerText(), /interior-core[\s\S]*64 × 64 × 64[\s\S]*2 µm[\s\S]*not placed/);
  const field = async (k) => Number(await page.getByTestId(`ms-place-${k}`).inputValue());
  const use = page.locator('[data-testid^="ms-use-proposal-"]');
  assert.equal(await use.count(), 2, 'one proposal per painted class');
  const listed = await page.getByTestId('ms-proposals').locator('li').first().innerText();
  await use.first().click();
  const pc = /centre voxel \(([-\d.]+), ([-\d.]+), ([-\d.]+)\)/.exec(listed);
  assert.ok(pc, listed);
  assert.deepEqual([await field('z'), await field('y'), await field('x')], [Number(pc[1]), Number(pc[2]), Number(pc[3])], 'the proposal sets the start');
  // a start outside the scan is refused in words, nothing is placed
  await page.getByTestId('ms-place-x').fill('999');
  await page.getByTestId('ms-place').click();
  await waitFor(async () => /lies outside the large scan "banded-plug\.nrrd" \(24 × 48 × 64 voxels/.test(await page.getByTestId('ms-error').innerText()), 'the outside-the-scan message');
  assert.equal(await page.getByTestId('ms-interior').count(), 0);
  const centre = IN0.map((s) => s + (IN - 1) / 2);
  const click = async (panel, wVox, hVox, u, v) => {
    const box = await page.getByTestId(`ms-place-view-canvas-${panel}`).boundingBox();
    const wUm = wVox * SP, hUm = hVox * SP, scale = Math.min(box.width / wUm, box.height / hUm) * 0.98;
    const ox = box.width / 2 - (wUm * scale) / 2, oy = box.height / 2 - (hUm * scale) / 2;
    await page.mouse.click(box.x + ox + (u + 0.5) * SP * scale, box.y + oy + (v + 0.5) * SP * scale);
  };
  const fields = async () => [await field('z'), await field('y'), await field('x')];
  // a click on the voxel holding the current (fractional) start keeps that start: click elsewhere
  const before = await fields();
  const clicked = [Math.round(centre[0]) + 1, Math.round(centre[1]) - 3, Math.round(centre[2]) + 2].map((v, a) => (v === Math.round(before[a]) ? v - 1 : v));
  await page.getByTestId('ms-place-view-canvas-XY').scrollIntoViewIfNeeded(); // page.mouse clicks only inside the viewport
  await click('XY', NX, NY, clicked[2], clicked[1]); // sets x and y
  await waitFor(async () => (await field('x')) === clicked[2] && (await field('y')) === clicked[1], `a click on XY sets x and y (${await fields()})`, 5000);
  await click('XZ', NX, NZ, clicked[2], clicked[0]); // sets x and z
  await waitFor(async () => (await field('z')) === clicked[0], 'a click on XZ sets z', 5000).catch(async (e) => {
    throw new Error(`${e.message}: fields ${await fields()} vs clicked ${clicked}; XZ read-out "${await page.getByTestId('ms-place-view-readout-XZ').innerText()}"`);
  });
  assert.deepEqual(await fields(), clicked, 'clicks set the start');
  assert.match(await page.getByTestId('ms-place-view-canvas-XY').getAttribute('data-boxes'), /ms-preview-box/);
  await page.getByTestId('ms-place-a').fill('4');
  await page.getByTestId('ms-place').click();
  await page.getByTestId('ms-interior').waitFor({ timeout: 20_000 });
  await page.getByTestId('ms-register').click();
  await page.getByTestId('ms-registration').waitFor({ timeout: 180_000 });
  const reg = await page.getByTestId('ms-registration').innerText();
  const m = /Centre \(([-\d.]+), ([-\d.]+), ([-\d.]+)\) voxels, turn ([-\d.]+)°/.exec(reg);
  assert.ok(m, reg);
  const err = Math.hypot(Number(m[1]) - centre[0], Number(m[2]) - centre[1], Number(m[3]) - centre[2]);
  assert.ok(err < 1 && Math.abs(Number(m[4])) < 2, `registered within a voxel and 2° of where it was taken: ${reg}`);
  assert.equal(await page.getByTestId('ms-views').locator('canvas').count(), 9, 'three views × (scan, interior, checkerboard)');
  assert.match(await page.getByTestId('ms-proposals').innerText(), /covered by interior-core\.nrrd/);
  // the registered footprint is outlined on the large scan's views
  await waitFor(async () => /ms-footprint/.test(await page.getByTestId('ms-place-view-canvas-XY').getAttribute('data-boxes')), 'footprint on the XY view');
  assert.match(await page.getByTestId('ms-place-view-canvas-XZ').getAttribute('data-boxes'), /ms-footprint/);
  // pore/solid preview over the interior's own slices
  await waitFor(async () => (await page.getByTestId('ms-seg-view-canvas-XY').getAttribute('data-layer')) === 'yes', 'pore/solid preview drawn');
  assert.match(await page.getByTestId('ms-threshold-used').innerText(), /automatic/);
  await screenshot(page, 'multiscale-registered');

  // painted pore/solid corrections on the interior, as a person paints them: single dark (pore) and
  // bright (solid) voxels clicked all over two XY slices (z = 20 and z = 44, 20 of each class on
  // each), then the engine trained on them and its pores read against the interior's truth. The
  // voxels are picked from the interior's own grey values (hiVoxels, not the NRRD file: an earlier
  // version read the file with its 81-byte header and painted 28 of its 40 "pores" on solid)
  const hiN = IN * R, SLICES = [20, 44], PER_SLICE = 20;
  const pick = (zs, light) => {
    const all = [];
    for (let y = 3; y < hiN - 3; y++) for (let x = 3; x < hiN - 3; x++) {
      const g = scans.hiVoxels[(zs * hiN + y) * hiN + x];
      if (light ? g > 170 : g < 60) all.push([x, y]);
    }
    return Array.from({ length: PER_SLICE }, (_, k) => all[Math.floor(((k + 0.5) * all.length) / PER_SLICE)]); // spread over the slice
  };
  const porePts = SLICES.map((zs) => pick(zs, false)), solidPts = SLICES.map((zs) => pick(zs, true));
  const nPainted = SLICES.length * PER_SLICE;
  const sliceUrls = {};
  page.on('request', (r) => {
    const m = /\/multiscale\/pores\?dataset=[^&]+&axis=z&index=(\d+)&/.exec(r.url());
    if (m) sliceUrls[m[1]] = r.url();
  });
  await page.getByTestId('ms-pore-view-canvas-XY').scrollIntoViewIfNeeded();
  for (const [s, zs] of SLICES.entries()) {
    await page.getByTestId('ms-pore-tool-navigate').check();
    await page.mouse.move(1, 1); // off the canvas: its read-out names the slice
    await page.getByTestId('ms-pore-view-XY').getByRole('slider').fill(String(zs));
    await waitFor(async () => (await page.getByTestId('ms-pore-view-readout-XY').innerText()) === `z = ${zs}` && (await page.getByTestId('ms-pore-view-canvas-XY').getAttribute('data-layer')) === 'yes' && !!sliceUrls[zs], `pore/solid strokes slice z = ${zs} loaded`);
    const pbox = await page.getByTestId('ms-pore-view-canvas-XY').boundingBox();
    const ps = Math.min(pbox.width, pbox.height) / (hiN * 2) * 0.98, pox = pbox.width / 2 - (hiN * 2 * ps) / 2, poy = pbox.height / 2 - (hiN * 2 * ps) / 2;
    for (const [tool, pts] of [['pore', porePts[s]], ['solid', solidPts[s]]]) {
      await page.getByTestId(`ms-pore-tool-${tool}`).check();
      for (const [k, [x, y]] of pts.entries()) {
        await page.mouse.click(pbox.x + pox + (x + 0.5) * 2 * ps, pbox.y + poy + (y + 0.5) * 2 * ps);
        await waitFor(async () => (await page.getByTestId('ms-pore-paint').getAttribute('data-saving')) === 'no', 'painted voxel saved');
        // with 20 pores and 1 solid painted, the page asks for more before training
        if (s === 0 && tool === 'solid' && k === 0) await waitFor(async () => /Few painted voxels \(1 solid\)/.test(await page.getByTestId('ms-pore-few').innerText().catch(() => '')), 'the few-voxels hint');
      }
    }
  }
  await waitFor(async () => (await page.getByTestId('ms-pore-counts').innerText()) === `${nPainted} pore, ${nPainted} solid voxels painted`, 'painted pore/solid counts');
  assert.equal(await page.getByTestId('ms-pore-few').count(), 0, 'no few-voxels hint with 40 + 40');
  // each click painted the voxel it aimed at (the stored strokes slices, read back as the page reads them)
  for (const [s, zs] of SLICES.entries()) {
    const strokes = await page.evaluate(async (u) => {
      const res = await fetch(u, { cache: 'no-store' });
      return { w: Number(res.headers.get('X-Slice-Width')), data: Array.from(new Uint8Array(await res.arrayBuffer())) };
    }, sliceUrls[zs].replace(/&layer=[a-z]+/, '&layer=strokes'));
    const missed = [...porePts[s].map(([x, y]) => [x, y, 1]), ...solidPts[s].map(([x, y]) => [x, y, 2])].filter(([x, y, c]) => strokes.data[y * strokes.w + x] !== c);
    assert.equal(missed.length, 0, `painted voxels off target on z = ${zs}: ${JSON.stringify(missed.slice(0, 5))}`);
    assert.equal(strokes.data.filter((c) => c).length, 2 * PER_SLICE, `no voxel painted beside the aimed ones on z = ${zs}`);
  }
  await page.getByTestId('ms-pore-train').click();
  await page.getByTestId('ms-pore-trained').waitFor({ timeout: 180_000 });
  const trainedText = await page.getByTestId('ms-pore-trained').innerText();
  const tm = new RegExp(`Trained on ${nPainted} pore and ${nPainted} solid voxels; held-out accuracy ([\\d.]+) %;\\s*predicted pore fraction of the interior ([\\d.]+) %`).exec(trainedText);
  assert.ok(tm, trainedText);
  // against the interior's truth (lib's test of the same speckle, 40 + 40 voxels on one slice: 20-22 % pore, truth 19 %)
  const [acc, poreShare] = [Number(tm[1]) / 100, Number(tm[2]) / 100];
  console.log(`  e2e 08: trained pores ${nPainted} + ${nPainted} voxels on z = ${SLICES.join(', ')}: held-out accuracy ${tm[1]} %, predicted pore ${tm[2]} % (truth ${(100 * scans.hiTruth).toFixed(1)} %)`);
  assert.ok(Math.abs(poreShare - scans.hiTruth) < 0.05, `predicted pore fraction ${poreShare} vs the interior's ${scans.hiTruth.toFixed(4)}: ${trainedText}`);
  assert.ok(acc >= 0.85, `held-out accuracy ${acc}: ${trainedText}`);
  assert.ok(await page.getByTestId('ms-pore-use-trained').isChecked(), 'the trained pores are in use');
  await screenshot(page, 'multiscale-pores-trained');
  // the measurement below checks the threshold path (the switch the page offers)
  await page.getByTestId('ms-pore-use-threshold').click(); // the radio shows the stored choice once the server has it
  await waitFor(async () => (await page.getByTestId('ms-pore-use-threshold').isChecked()) && !(await page.getByTestId('ms-pore-use-trained').isChecked()), 'measuring with the threshold again');

  // measure and build the composite model
  assert.equal(await page.getByTestId('ms-measure-needs').count(), 0, 'nothing missing once an interior scan is registered');
  await page.getByTestId('ms-measure').click();
  await page.getByTestId('ms-result').waitFor({ timeout: 180_000 });
  const table = await page.getByTestId('ms-class-table').innerText();
  assert.match(table, /high porosity/);
  assert.match(table, /low porosity/);
  assert.match(await page.getByTestId('ms-segmentations').innerText(), /pore\/solid by automatic thresholds per class/);
  const total = await page.getByTestId('ms-total').innerText();
  const t = Number(/porosity ([\d.]+) %/.exec(total)?.[1]) / 100;
  assert.ok(Math.abs(t - scans.truth) < 0.03, `whole-sample porosity ${t} vs the field's ${scans.truth.toFixed(4)}: ${total}`);
  await page.getByTestId('ms-class-chart').waitFor();
  // both charts name their axes in units, and the bar chart says what bar, whisker and dot are
  assert.match(await page.getByTestId('ms-class-chart').textContent(), /porosity \(fraction\)[\s\S]*whisker: its 95 % interval/);
  assert.match(await page.getByTestId('ms-depth-chart').textContent(), /depth below the top of the scan \(µm\)[\s\S]*mean porosity \(fraction\)/);
  // the composite model on the three views: hover reads porosity ± uncertainty and the class
  await waitFor(async () => (await page.getByTestId('ms-comp-view-canvas-XY').getAttribute('data-layer')) === 'yes', 'composite slice drawn');
  await page.getByTestId('ms-comp-view-canvas-XY').scrollIntoViewIfNeeded();
  const cbox = await page.getByTestId('ms-comp-view-canvas-XY').boundingBox();
  const cs = Math.min(cbox.width / (NX * SP), cbox.height / (NY * SP)) * 0.98;
  const cox = cbox.width / 2 - (NX * SP * cs) / 2, coy = cbox.height / 2 - (NY * SP * cs) / 2;
  await page.mouse.move(cbox.x + cox + (centre[2] + 0.5) * SP * cs, cbox.y + coy + (centre[1] + 0.5) * SP * cs);
  await waitFor(async () => /porosity 0\.\d{3} ± 0\.\d{3} · (high|low) porosity/.test(await page.getByTestId('ms-comp-view-readout-XY').innerText()), 'composite read-out under the pointer');
  assert.match(await page.getByTestId('ms-colour-bar').getAttribute('aria-label'), /porosity \(fraction\)/);
  await page.getByTestId('ms-show-uncertainty').check();
  await waitFor(async () => /uncertainty/.test(await page.getByTestId('ms-colour-bar').getAttribute('aria-label')), 'uncertainty colour bar');
  await screenshot(page, 'multiscale-composite');
  await page.getByTestId('ms-show-porosity').check();
  await page.getByTestId('ms-result').scrollIntoViewIfNeeded();
  await screenshot(page, 'multiscale-result');

  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ms-download-table').click()]);
  assert.match(csvDl.suggestedFilename(), /multiscale-classes\.csv$/);
  const csv = (await readFile(await csvDl.path(), 'utf8')).replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  assert.match(csv[0], /^class,name,low_res_voxels,volume_fraction,covered/);
  assert.ok(csv.some((l) => /^1,high porosity,/.test(l)) && csv.some((l) => /^2,low porosity,/.test(l)), csv.join(' | '));
  const [modelDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ms-download-model').click()]);
  const head = (await readFile(await modelDl.path())).subarray(0, 400).toString('latin1');
  assert.match(head, /^NRRD0004/);
  assert.match(head, /type: float/);
  assert.match(head, new RegExp(`sizes: ${NX} ${NY} ${NZ}`));
  // the OME-Zarr composite (porosity + uncertainty), zipped as it is sent
  const [zarrDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ms-download-zarr').click()]);
  assert.match(zarrDl.suggestedFilename(), /multiscale-composite\.ome\.zarr\.zip$/);
  const zip = (await readFile(await zarrDl.path())).toString('latin1');
  assert.ok(zip.startsWith('PK'), 'the OME-Zarr download is a zip');
  assert.match(zip, /composite\.ome\.zarr\/zarr\.json/);
}, { timeoutMs: 500_000 });
