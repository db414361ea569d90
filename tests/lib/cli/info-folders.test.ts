/**
 * `petromap info` on the folders a new user has after the README's first commands: an EDS map folder
 * from import-eds answered "holds no .tif/.tiff, .png or .bmp slices", and so did a run's or a
 * prediction's --out; `info scan.nrrd --out x` took and ignored import's --out. Now the map folder
 * is described (size, pixel size, legend), a results folder is refused naming what inside it info
 * describes (a prediction's folder holding labels.tif from --export tiff was read as a volume of one
 * slice), and import's store-writing options are refused in words.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encode } from 'fast-png';
import { expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';
import { saveMineralMap } from '../../../lib/eds/store-node';
import type { MineralMap } from '../../../lib/eds/types';
import { nrrdHeader } from '../../../lib/report/volume-headers';
import { writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-info-folders-');
const meta = { shape: [4, 8, 8] as [number, number, number], spacingUm: [2, 2, 2] as [number, number, number], originUm: [0, 0, 0] as [number, number, number], dtype: 'uint8' as const, channels: ['xrm'] };

it('an EDS map folder from import-eds is described: size, pixel size, legend with shares', async () => {
  const n = 20;
  const map: MineralMap = { width: n, height: n, pixelSizeUm: 2.5, labels: new Uint16Array(n * n).map((_, k) => (k < 300 ? 1 : 2)), companions: [],
    legend: [{ id: 1, name: 'Quartz', color: [230, 220, 180] }, { id: 2, name: 'Pyrite', color: [200, 200, 0] }] };
  const dir = path.join(tmp, 'eds');
  await saveMineralMap(dir, map);
  const r = await capture(() => main(['info', dir]));
  expect(r.code, r.err).toBe(0);
  const j = JSON.parse(r.out);
  expect(j).toMatchObject({ kind: 'eds-map', width: 20, height: 20, pixelSizeUm: 2.5, companions: [] });
  expect(j.legend).toEqual([{ id: 1, name: 'Quartz', areaPercent: 75 }, { id: 2, name: 'Pyrite', areaPercent: 25 }]);
});

it('a run\'s or a prediction\'s folder is refused, naming the stores inside it; a folder of slices is still read as a volume', async () => {
  const run = path.join(tmp, 'run1');
  await writeDenseVolume(path.join(run, 'volume.ome.zarr'), { meta, data: new Uint8Array(256) });
  await writeDenseVolume(path.join(run, 'prediction', 'labels.ome.zarr'), { meta, data: new Uint8Array(256) });
  const r = await capture(() => main(['info', run]));
  expect(r.code).toBe(1);
  expect(r.err).toBe(`petromap info: ${run.split('/').pop()} is a folder of petromap's results, not a volume; give info one of what it holds (in that folder): prediction/labels.ome.zarr, volume.ome.zarr.\n`);
  const p = await capture(() => main(['info', path.join(run, 'prediction')]));
  expect(p.err).toMatch(/is a folder of petromap's results, not a volume; give info one of what it holds \(in that folder\): labels\.ome\.zarr\.$/m);
  // predict --export tiff leaves labels.tif beside predict.json: that folder was read as a volume of one slice
  writeFileSync(path.join(run, 'prediction', 'predict.json'), '{}');
  writeFileSync(path.join(run, 'prediction', 'labels.tif'), 'exported');
  const t = await capture(() => main(['info', path.join(run, 'prediction')]));
  expect(t.code).toBe(1);
  expect(t.err).toMatch(/give info one of what it holds \(in that folder\): labels\.ome\.zarr, labels\.tif\.$/m);
  // the store itself is described
  const s = await capture(() => main(['info', path.join(run, 'volume.ome.zarr')]));
  expect(JSON.parse(s.out).kind).toBe('store');
  // slices beside a store: read as slices, as before
  const slices = path.join(tmp, 'slices');
  mkdirSync(slices);
  for (const z of [0, 1]) writeFileSync(path.join(slices, `s_000${z}.png`), encode({ width: 8, height: 8, data: new Uint8Array(64).fill(90), channels: 1, depth: 8 }));
  await writeDenseVolume(path.join(slices, 'old.ome.zarr'), { meta, data: new Uint8Array(256) });
  const sl = await capture(() => main(['info', slices, '--spacing', '2,2,2']));
  expect(sl.code, sl.err).toBe(0);
  expect(JSON.parse(sl.out)).toMatchObject({ kind: 'file', format: 'tiff-folder', shape: [2, 8, 8] });
});

it('import\'s options that only shape the written store are refused, not ignored; --spacing is shown as import would take it', async () => {
  const f = path.join(tmp, 'scan.nrrd');
  writeFileSync(f, Buffer.concat([Buffer.from(nrrdHeader({ shape: [4, 8, 8], spacingUm: [2, 2, 2], comment: 'x' }), 'latin1'), new Uint8Array(256)]));
  for (const [opt, v] of [['--out', 'x.ome.zarr'], ['--compression', 'gzip'], ['--channel', 'xrm']]) {
    const r = await capture(() => main(['info', f, opt!, v!]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^petromap info: ${opt} is an option of petromap import \\(the store it writes\\); info reads headers only and writes nothing\\.`));
  }
  const g = await capture(() => main(['info', f, '--spacing', '3,1,1']));
  expect(JSON.parse(g.out).spacingUm).toEqual([3, 1, 1]);
});
