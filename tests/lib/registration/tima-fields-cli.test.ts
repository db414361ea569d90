/** `petromap register`: which fields per-field registration uses (TIMA layout, grid, none) and its refusals. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRegisterArgs, registerFields, USAGE } from '../../../lib/cli/register';
import type { MineralMap } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';

let dir: string;
let png: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-timafields-cli-'));
  png = join(dir, 'map.png');
  await writeFile(png, 'not read here');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = (map: string) => ['--volume', dir, '--map', map];
const map = (fields?: MineralMap['fields']): MineralMap => ({ width: 166, height: 83, pixelSizeUm: 1, labels: new Uint16Array(166 * 83), legend: [], companions: [], fields });
const TIMA = [{ name: 'A1', u0: 0, v0: 0, width: 83, height: 83 }, { name: 'A2', u0: 83, v0: 0, width: 83, height: 83 }];
const refused = (f: () => unknown, re: RegExp) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isPetromapError(err, 'InvalidInput')).toBe(true);
  expect((err as Error).message).toMatch(re);
};

describe('register --model fields / --fields with a TIMA field layout', () => {
  it('uses the TIMA layout for --model fields and --fields tima; a grid overrides it; auto does not refine per field unless asked', () => {
    const a = parseRegisterArgs([...base(dir), '--model', 'fields']);
    expect(registerFields(a, map(TIMA))).toBe(TIMA);
    const t = parseRegisterArgs([...base(dir), '--fields', 'tima']);
    expect(t.model).toBe('auto');
    expect(registerFields(t, map(TIMA))).toBe(TIMA);
    const g = parseRegisterArgs([...base(dir), '--model', 'fields', '--fields', '2x1']);
    expect(registerFields(g, map(TIMA))!.map((f) => [f.u0, f.width])).toEqual([[0, 83], [83, 83]]);
    expect(registerFields(parseRegisterArgs([...base(dir), '--fields', '3x1']), map(TIMA))).toHaveLength(3);
    expect(registerFields(parseRegisterArgs(base(dir)), map(TIMA))).toBeUndefined();
  });

  it('refuses --fields tima and --model fields without a grid for a map that is not a TIMA export, before any work', () => {
    refused(() => parseRegisterArgs([...base(png), '--fields', 'tima']), /--fields tima: the EDS map map\.png is not a TIMA export.*--fields <columns>x<rows>/);
    refused(() => parseRegisterArgs([...base(png), '--model', 'fields']), /--model fields needs the field grid of the mosaic: the EDS map map\.png is not a TIMA export/);
    refused(() => parseRegisterArgs([...base(dir), '--fields', '3x']), /--fields must be <columns>x<rows> of the mosaic \(e\.g\. 4x3\) or tima/);
    // a folder that turns out to hold no layout: refused once the map is read
    refused(() => registerFields(parseRegisterArgs([...base(dir), '--fields', 'tima']), map()), /not a TIMA export, so it has no field layout/);
    refused(() => registerFields(parseRegisterArgs([...base(dir), '--model', 'fields']), map([])), /--model fields needs the field grid/);
  });

  it('refuses --fields with --model similarity or affine (they would ignore the fields), before any work', () => {
    refused(() => parseRegisterArgs([...base(dir), '--model', 'similarity', '--fields', '3x2']), /--fields 3x2 gives the mosaic's fields for per-field shifts, but --model similarity moves the whole map as one similarity transform.*use --model fields/);
    refused(() => parseRegisterArgs([...base(dir), '--model', 'affine', '--fields', 'tima']), /--fields tima .*--model affine .*leave --fields out/);
    expect(parseRegisterArgs([...base(dir), '--model', 'affine']).grid).toBeUndefined();
  });

  it('--help says what --fields takes', () => {
    expect(USAGE).toMatch(/--fields <cols>x<rows>\|tima/);
    expect(USAGE).toMatch(/TIMA export's own field layout/);
    expect(USAGE).toMatch(/fieldLayout\?: "tima" \| "grid <cols>x<rows>"/);
    expect(USAGE).toMatch(/Refused with --model similarity\|affine/);
  });
});
