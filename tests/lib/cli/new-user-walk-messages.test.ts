/**
 * What a new user's CLI walk found (N6), each said right now:
 * - `info eds-map.png` said only "unknown volume file type": it names petromap import-eds;
 * - `info <synth folder>` read its two PNGs as a 2-slice volume ("the distance between the 2 slices
 *   is unknown"): it says what the folder holds and the command for each;
 * - synth's next-step line began "synth:" where every other command says "petromap <cmd>:";
 * - `--landmarks /dev/null` was "a folder"; `--mirror` without a value did not say auto or none.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../../lib/cli/main';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-walk-');

it('synth says "petromap synth:"; info on its map image and on its folder says what they are and where they go', async () => {
  const dir = path.join(tmp, 'tiny');
  const s = await capture(() => main(['synth', dir, '--options', '{"shape":[8,32,32],"eds":{"widthPx":16,"heightPx":16}}']));
  expect(s.code, s.err).toBe(0);
  expect(s.err).toMatch(/^petromap synth: next, the whole chain on it: petromap run /m);
  expect(s.err).not.toMatch(/^synth: next/m);

  const png = await capture(() => main(['info', path.join(dir, 'eds-map.png')]));
  expect(png.code).toBe(1);
  expect(png.err).toMatch(/^petromap info: .*eds-map\.png is a 2D image, not a volume\. A colour EDS mineral map is imported with its legend: petromap import-eds \S*eds-map\.png --legend <legend\.csv> --pixel-um <µm> --out <map folder>/);

  const folder = await capture(() => main(['info', dir]));
  expect(folder.code).toBe(1);
  expect(folder.err).toMatch(/is a sample's folder, not a volume: the scan volume\.nrrd \(petromap info \S*volume\.nrrd\); the EDS map eds-map\.png with its legend eds-legend\.csv \(petromap import-eds \S*eds-map\.png --legend \S*eds-legend\.csv --pixel-um <µm> --out <map folder>\); also bse\.png, truth-labels\.nrrd, truth\.json\./);
  expect(folder.err).not.toMatch(/slices/);
  // the scan in it is still described
  const vol = await capture(() => main(['info', path.join(dir, 'volume.nrrd')]));
  expect(vol.code).toBe(0);
  expect(JSON.parse(vol.out).shape).toEqual([8, 32, 32]);
}, 60_000);

it('--landmarks /dev/null is not "a folder"; --mirror without a value lists auto and none', async () => {
  const r = await capture(() => main(['run', '--volume', tmp, '--eds', tmp, '--out', path.join(tmp, 'never'), '--landmarks', '/dev/null']));
  expect(r.code).toBe(1);
  expect(r.err.trim()).toBe('petromap run: --landmarks: /dev/null is not a regular file (a device, pipe or socket); give a file holding the landmarks.');
  const m = await capture(() => main(['predict', '--volume', tmp, '--model', tmp, '--out', path.join(tmp, 'never'), '--mirror']));
  expect(m.code).toBe(1);
  expect(m.err).toMatch(/^petromap predict: --mirror needs a value: auto or none\. usage: petromap predict /);
  const e = await capture(() => main(['run', '--volume', tmp, '--eds', tmp, '--out', path.join(tmp, 'never'), '--export']));
  expect(e.err).toMatch(/^petromap run: --export needs a value/);
});
