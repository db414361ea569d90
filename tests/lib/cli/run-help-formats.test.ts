/**
 * `petromap run --help` named --classes classes.json and --landmarks pairs.json without saying what
 * the files hold (a new user with only the README and --help could not write either). It now shows
 * both formats by example; the examples are what run reads. --landmarks is checked before the
 * import: fewer than 3 pairs, or a pair without numbers, was refused only by the registration, after
 * the scan was imported.
 */
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { checkLandmarks, USAGE } from '../../../lib/cli/run';
import { main } from '../../../lib/cli/main';
import { isPetromapError } from '../../../lib/errors';
import { parseClassTable } from '../../../lib/pipeline/run-mineralogy';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-run-formats-');

it('run --help shows the class table and the landmark pairs by example, and the examples are read as run reads them', () => {
  const classes = /--classes: .*\n\s+(\[\{ "code".*\])\n/.exec(USAGE)?.[1];
  expect(classes, USAGE).toBeDefined();
  expect(parseClassTable(JSON.parse(classes!), 'classes.json').map((c) => c.name)).toEqual(['quartz', 'feldspar']);
  const pair = /--landmarks: .*\n\s+\[(\{ "eds".*?\}), \.\.\.\]/.exec(USAGE)?.[1];
  expect(pair, USAGE).toBeDefined();
  expect(checkLandmarks(JSON.parse(`[${pair}, ${pair}, ${pair}]`), 'pairs.json')).toHaveLength(3);
});

it('--landmarks with fewer than 3 pairs or a pair without its numbers, and a CSV as --classes, are refused before the volume is read', async () => {
  const one = { eds: [120, 40], voxel: [12, 300, 415] };
  const cases: [unknown, RegExp][] = [
    [[one, one], /^--landmarks .*: 2 pairs; at least 3 are needed to place the map/],
    [[one, one, { eds: [1, 2], voxel: [3, 4] }], /^--landmarks .*: expected a JSON array of \{ "eds": \[u, v\], "voxel": \[z, y, x\] \} or \{ "eds": \[u, v\], "slab": \[u, v\] \}; pair 3 is not one\.$/],
    [{ landmarks: [one, one, { eds: ['1', 2], slab: [3, 4] }] }, /pair 3 is not one/],
  ];
  // neither is read: the landmarks are refused first
  const vol = path.join(tmp, 'in', 'not-a-volume.nrrd'), map = path.join(tmp, 'in', 'not-a-map.png');
  mkdirSync(path.join(tmp, 'in'));
  writeFileSync(vol, 'not a volume');
  writeFileSync(map, 'not a map');
  for (const [json, re] of cases) {
    const f = path.join(tmp, 'pairs.json');
    writeFileSync(f, JSON.stringify(json));
    const r = await capture(() => main(['run', '--volume', vol, '--eds', map, '--out', path.join(tmp, 'never'), '--landmarks', f]));
    expect(r.code).toBe(1);
    expect(r.err.replace(/^petromap run: /, '').trim()).toMatch(re);
  }
  expect(() => checkLandmarks([one, one, one], 'p.json')).not.toThrow();
  // a legend CSV given as the class table: said as such (was: "is not valid JSON (Unexpected token 'a', ...")
  const csv = path.join(tmp, 'legend.csv');
  writeFileSync(csv, 'name,r,g,b\nQuartz,236,220,180\n');
  const c = await capture(() => main(['run', '--volume', vol, '--eds', map, '--out', path.join(tmp, 'never'), '--classes', csv]));
  expect(c.err.trim()).toMatch(/^petromap run: --classes .*legend\.csv: a text table; run's --classes is a JSON class table such as \[\{ "code": 1, "name": "quartz", "minerals": \["Quartz"\] \}\] \(petromap run --help\)\. A map's legend is given with --legend\.$/);
  expect(isPetromapError((() => { try { checkLandmarks([one], 'p.json'); } catch (e) { return e; } })(), 'InvalidInput')).toBe(true);
});
