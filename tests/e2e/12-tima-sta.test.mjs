/**
 * A mineralogist's real TESCAN TIMA export (../shared/data/tima-sta: an iron formation, 53 %
 * hematite/magnetite) with a scan, on the Correlate step: the class list starts as a sandstone's,
 * so the main mineral is dropped; the page says how much of the map would not train and names the
 * minerals, and "+ new class" adds the mineral as a class of its own, which it then becomes. The
 * map's pixel size reads 12.05 µm/px, not 12.048192771084338.
 * Skipped where ../shared is absent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { screenshot, test, waitFor } from './harness.mjs';
import { createProject } from './nav.mjs';

const TIMA = fileURLToPath(new URL('../../../shared/data/tima-sta', import.meta.url));

/** A small uint16 NRRD (raw encoding) with a bright sphere, written in memory (a stand-in scan: only the class map is looked at). */
function makeNrrd(nz = 12, ny = 40, nx = 48) {
  const header = `NRRD0004\ntype: uint16\ndimension: 3\nsizes: ${nx} ${ny} ${nz}\nspacings: 12 12 12\nencoding: raw\nendian: little\n\n`;
  const data = Buffer.alloc(nx * ny * nz * 2);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const r = Math.hypot(x - nx / 2, y - ny / 2, z - nz / 2);
    data.writeUInt16LE(z < 3 ? 500 : r < 8 ? 30000 : 8000 + ((x * 131 + y * 71 + z * 37) % 900), 2 * ((z * ny + y) * nx + x));
  }
  return Buffer.concat([Buffer.from(header, 'latin1'), data]);
}

if (existsSync(path.join(TIMA, 'measurement.xml'))) {
  test('a real TIMA export whose main mineral the class list lacks: named as dropped, added as a class', async ({ page, baseUrl }) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'petromap-e2e-tima-sta-'));
    try {
      const zip = path.join(dir, 'STA-export.zip');
      execFileSync('zip', ['-qr', zip, '.'], { cwd: TIMA });
      await createProject(page, baseUrl, 'STA iron formation');
      const projectUrl = page.url();
      const rows = page.getByTestId('dataset-table').locator('tbody tr');
      await page.getByTestId('file-volume').setInputFiles({ name: 'sta-scan.nrrd', mimeType: 'application/octet-stream', buffer: makeNrrd() });
      await waitFor(async () => (await rows.count()) === 1, 'the scan in the dataset table', 120_000);
      await page.getByTestId('file-eds').setInputFiles({ name: 'STA-export.zip', mimeType: 'application/zip', buffer: readFileSync(zip) });
      await waitFor(async () => (await rows.count()) === 2, 'the TIMA map in the dataset table', 180_000);
      assert.match(await page.getByTestId('dataset-table').innerText(), /STA-export\.zip[\s\S]*not measured 23/);

      await page.goto(`${projectUrl}/correlate`);
      await page.getByTestId('class-map').waitFor({ timeout: 60_000 });
      // a 20 mm mount on a 0.58 mm scan: said before Auto-register is tried, with what to do
      await page.getByTestId('map-wider-note').waitFor({ timeout: 30_000 });
      assert.match(await page.getByTestId('map-wider-note').innerText(), /The EDS map is 20 mm wide, \d+ times as wide as the scanned surface \(\d+ µm\)[\s\S]*3 landmark pairs[\s\S]*voxel size/);
      const warning = await page.getByTestId('dropped-share').innerText();
      assert.match(warning, /Dropped minerals cover \d+ % of the map's classified pixels \(Hematite_Magnetite 7\d\.\d %/, warning);
      // the map's pixel size as a person reads it (the export stores 1000 µm / 83 px)
      await page.getByText(/1660 × 1660 px · 12\.05 µm\/px/).first().waitFor({ timeout: 10_000 });
      assert.doesNotMatch(await page.locator('body').innerText(), /12\.048/);
      const hm = page.getByRole('combobox', { name: 'Class for Hematite_Magnetite' });
      assert.equal(await hm.inputValue(), '');
      // a trace mineral reads "<0.1 %", not "0.0 %"
      assert.match(await page.getByTestId('class-map').innerText(), /Wolframite\s+<0\.1 %/);
      await screenshot(page, 'tima-sta-dropped');
      await hm.selectOption({ label: '+ new class “Hematite_Magnetite”' });
      await waitFor(async () => (await hm.inputValue()) !== '' && (await hm.inputValue()) !== 'new', 'the mineral mapped to its new class', 20_000);
      assert.equal(await hm.locator('option:checked').innerText(), 'Hematite_Magnetite');
      // the rest dropped is small now: no warning
      await waitFor(async () => (await page.getByTestId('dropped-share').count()) === 0, 'the warning gone', 10_000);
      await screenshot(page, 'tima-sta-new-class');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, { timeoutMs: 300_000 });
}
