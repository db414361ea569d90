/**
 * `petromap import-eds --help` named legend.csv without saying what it holds, and did not explain
 * --pixel-um, --bse or --companion. It now gives the legend's lines by example; the examples import.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encode } from 'fast-png';
import { expect, it } from 'vitest';
import { USAGE } from '../../../lib/cli/import-eds';
import { main } from '../../../lib/cli/main';
import { capture, cliTempDir } from './cli-session';

const tmp = cliTempDir('petromap-import-eds-help-');

it('the legend lines of import-eds --help import: a colour map with name,r,g,b and a label image with code,name', async () => {
  const colour = /name,r,g,b \(e\.g\. ([^)]+)\)/.exec(USAGE)?.[1];
  const label = /code,name \(e\.g\. ([^)]+)\)/.exec(USAGE)?.[1];
  expect(colour, USAGE).toBeDefined();
  expect(label, USAGE).toBeDefined();
  for (const o of ['--pixel-um', '--bse', '--companion']) expect(USAGE).toMatch(new RegExp(`^  (--bse, )?${o}\\b`, 'm'));
  const rgb = colour!.split(',').slice(1).map(Number);
  writeFileSync(path.join(tmp, 'colour.png'), encode({ width: 4, height: 4, data: Uint8Array.from({ length: 48 }, (_, i) => rgb[i % 3]!), channels: 3, depth: 8 }));
  writeFileSync(path.join(tmp, 'colour.csv'), `${colour}\n`);
  const c = await capture(() => main(['import-eds', path.join(tmp, 'colour.png'), path.join(tmp, 'colour.csv'), '--pixel-um', '2', '--out', path.join(tmp, 'c')]));
  expect(c.code, c.err).toBe(0);
  expect(JSON.parse(c.out).phases).toMatchObject([{ name: colour!.split(',')[0], areaPercent: 100 }]);
  const [code, name] = label!.split(',');
  writeFileSync(path.join(tmp, 'label.png'), encode({ width: 4, height: 4, data: new Uint8Array(16).fill(Number(code)), channels: 1, depth: 8 }));
  writeFileSync(path.join(tmp, 'label.csv'), `${label}\n`);
  const l = await capture(() => main(['import-eds', path.join(tmp, 'label.png'), path.join(tmp, 'label.csv'), '--pixel-um', '2', '--out', path.join(tmp, 'l')]));
  expect(l.code, l.err).toBe(0);
  expect(JSON.parse(l.out).phases).toMatchObject([{ name, areaPercent: 100 }]);
});
