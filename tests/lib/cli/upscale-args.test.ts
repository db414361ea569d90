/**
 * `petromap upscale` on the shared parser (lib/cli/args.ts): repeatable options (--interior several
 * times), --pores bound to the --interior before it, every value checked before any work.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../../lib/cli/args';
import { parseUpscaleArgs } from '../../../lib/cli/upscale';

const dir = mkdtempSync(join(tmpdir(), 'petromap-upscale-args-'));
const P = (name: string) => { const p = join(dir, name); mkdirSync(p, { recursive: true }); return p; };
const vol = P('low.ome.zarr'), cls = P('classes.ome.zarr'), a = P('a.ome.zarr'), b = P('b.ome.zarr'), pa = P('a-pores.ome.zarr');
const base = ['--volume', vol, '--classes', cls, '--out', join(dir, 'out')];

describe('shared parser: repeatable options', () => {
  const spec = { usage: 'usage: x', options: { n: { kind: 'number', multiple: true, integer: true }, s: { kind: 'string' }, f: { kind: 'flag' } } } as const;
  it('collects every occurrence in order, checks each, and keeps the order of all options', () => {
    const r = parseCommandArgs(['--n', '3', '--s', 'x', '--n=5', '--f'], spec);
    expect(r.values.n).toEqual([3, 5]);
    expect(r.values.s).toBe('x');
    expect(r.sequence.map((o) => `${o.name}=${String(o.value)}`)).toEqual(['n=3', 's=x', 'n=5', 'f=true']);
    expect(() => parseCommandArgs(['--n', '3', '--n', '2.5'], spec)).toThrow(/--n must be a whole number, not "2.5"/);
    expect(parseCommandArgs([], spec).values.n).toBeUndefined();
  });
});

describe('petromap upscale arguments', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('several --interior, each with its position and its own --pores', () => {
    const r = parseUpscaleArgs([...base, '--interior', `${a}@40,60.5,61,-3`, '--pores', `${pa}:1,3`, '--interior', b, '--formats', 'nrrd,tiff', '--threshold', '9000',
      '--class-names', '1=high porosity,3=fracture']);
    expect(r.interiors).toEqual([
      { path: a, start: { centre: [40, 60.5, 61], angleDeg: -3 }, poreLabels: { path: pa, poreCodes: [1, 3] } },
      { path: b },
    ]);
    expect(r.formats).toEqual(['nrrd', 'tiff']);
    expect(r.threshold).toBe(9000);
    expect(r.classNames).toEqual({ 1: 'high porosity', 3: 'fracture' });
    // --pores after the second interior belongs to it; default pore code 1
    expect(parseUpscaleArgs([...base, '--interior', a, '--interior', b, '--pores', pa]).interiors.map((i) => i.poreLabels)).toEqual([undefined, { path: pa, poreCodes: [1] }]);
  });

  it('refuses, naming the option, before any work', () => {
    const bad = (argv: string[], re: RegExp) => expect(() => parseUpscaleArgs(argv)).toThrow(re);
    bad([...base], /--interior is required/);
    bad(['--classes', cls, '--interior', a, '--out', 'o'], /--volume is required/);
    bad([...base, '--interior', join(dir, 'nope.ome.zarr')], /--interior: the interior scan .*nope\.ome\.zarr does not exist/);
    bad([...base, '--interior', `${a}@1,2`], /z,y,x or z,y,x,degrees/);
    bad([...base, '--interior', `${a}@1,2,x`], /z,y,x or z,y,x,degrees/);
    bad([...base, '--pores', pa, '--interior', a], /--pores follows the --interior it segments/);
    bad([...base, '--interior', a, '--pores', pa, '--pores', pa], /given twice/);
    bad([...base, '--interior', a, '--pores', `${pa}:0`], /pore codes after : must be whole numbers 1–255/);
    bad([...base, '--interior', a, '--pores', join(dir, 'missing')], /--pores: the pore label volume .*missing does not exist/);
    bad([...base, '--interior', a, '--formats', 'nrrd,png'], /--formats takes a comma-separated list of ome-zarr, nrrd, nifti, tiff; "png"/);
    bad([...base, '--interior', a, '--threshold', 'dark'], /--threshold must be a number/);
    bad([...base, '--interior', a, '--class-names', 'high'], /--class-names: "high" is not code=name/);
    bad([...base, '--interior', a, '--interiors', b], /Unknown option --interiors/);
    bad(['--volume', join(dir, 'x.ome.zarr'), '--classes', cls, '--interior', a, '--out', 'o'], /--volume: the large scan .*x\.ome\.zarr does not exist/);
  });
});
