/** The one argument parser of the commands (lib/cli/args.ts): every value checked, messages name the option. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closestOption, parseCommandArgs, readJsonOption, shortUsage } from '../../../lib/cli/args';
import { isPetromapError } from '../../../lib/errors';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-args-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SPEC = {
  usage: 'usage: petromap demo …',
  options: {
    out: { kind: 'string', short: 'o', required: true },
    size: { kind: 'number', min: 0, exclusiveMin: true, unit: 'µm' },
    n: { kind: 'number', integer: true, min: 1 },
    mode: { kind: 'string', choices: ['fast', 'exact'] },
    export: { kind: 'list', choices: ['nrrd', 'tiff'] },
    shape: { kind: 'triple', integer: true },
    input: { kind: 'path', must: 'file', what: 'the input' },
    dry: { kind: 'flag' },
  },
  positionals: { name: 'sample folder', max: 1 },
} as const;

const fail = (argv: string[]) => {
  try {
    parseCommandArgs(argv, SPEC);
  } catch (e) {
    expect(isPetromapError(e, 'InvalidInput')).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
};

describe('parseCommandArgs', () => {
  it('types the values (--x v, --x=v, -o v, flags, lists, triples, positionals)', () => {
    writeFileSync(join(tmp, 'in.txt'), 'x');
    const { values, positionals } = parseCommandArgs(
      ['dir', '-o', 'res', '--size=2.5', '--n', '3', '--mode', 'exact', '--export', 'tiff,nrrd,tiff', '--shape', '4,5,6', '--input', join(tmp, 'in.txt'), '--dry'],
      SPEC,
    );
    expect(values).toEqual({ out: 'res', size: 2.5, n: 3, mode: 'exact', export: ['tiff', 'nrrd'], shape: [4, 5, 6], input: join(tmp, 'in.txt'), dry: true });
    expect(positionals).toEqual(['dir']);
    expect(parseCommandArgs(['--out', 'r'], SPEC).values).toMatchObject({ size: undefined, dry: false });
  });

  it('refuses with a message naming the option', () => {
    expect(fail([])).toMatch(/^--out is required\. usage: petromap demo/);
    expect(fail(['--out', 'r', '--size', 'map.png'])).toBe('--size must be a positive number (µm), not "map.png" (that looks like a file: is the number missing?).');
    expect(fail(['--out', 'r', '--size', 'NaN'])).toMatch(/^--size must be a positive number \(µm\), not "NaN"\.$/);
    expect(fail(['--out', 'r', '--n', '0'])).toMatch(/^--n must be a whole number ≥ 1/);
    expect(fail(['--out', 'r', '--mode', 'slow'])).toMatch(/^--mode must be fast, exact, not "slow"/);
    expect(fail(['--out', 'r', '--export', ''])).toMatch(/^--export needs a value|^--export takes a comma-separated list/);
    expect(fail(['--out', 'r', '--shape', '4,5'])).toMatch(/^--shape needs three whole numbers z,y,x/);
    expect(fail(['--out', 'r', '--input', join(tmp, 'nope')])).toMatch(/^--input: the input .*nope does not exist\.$/);
    expect(fail(['--out', 'r', '--input', tmp])).toMatch(/is a folder; give a file/);
    expect(fail(['--out', 'r', '--dry=yes'])).toMatch(/^--dry takes no value/);
    expect(fail(['--out', 'r', '--size'])).toMatch(/^--size needs a value/);
    expect(fail(['--out', '--size', '3'])).toMatch(/^--out needs a value/);
    expect(fail(['--out', 'r', '--bogus', '1'])).toMatch(/^Unknown option --bogus\. usage:/);
    expect(fail(['--out', 'r', 'a', 'b'])).toMatch(/^Too many arguments \(2; at most 1 sample folder\)/);
  });

  it('an unknown option names the one it most likely meant, and a long usage is cut to its first line', () => {
    expect(fail(['--out', 'r', '--sise', '1'])).toMatch(/^Unknown option --sise \(did you mean --size\?\)\. usage:/);
    expect(closestOption('--pixelum', ['volume', 'map', 'pixel-um', 'out'])).toBe('pixel-um');
    expect(closestOption('--pixel_um', ['volume', 'map', 'pixel-um', 'out'])).toBe('pixel-um');
    expect(closestOption('--Volume', ['volume', 'map'])).toBe('volume');
    expect(closestOption('--lables', ['labels', 'classes'])).toBe('labels');
    expect(closestOption('--seed', ['volume', 'map', 'pixel-um', 'out'])).toBeUndefined();
    const long = 'usage: petromap register --volume <v> --map <m>\n  Registers the EDS map.\n  --face top|bottom';
    expect(shortUsage(long)).toBe('usage: petromap register --volume <v> --map <m> (all options: petromap register --help)');
    const spec = { usage: long, options: { volume: { kind: 'path', must: 'dir', fileHint: 'import it first' }, out: { kind: 'string', required: true } } } as const;
    let msg = '';
    try {
      parseCommandArgs(['--volume', tmp], spec);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe('--out is required. usage: petromap register --volume <v> --map <m> (all options: petromap register --help)');
    writeFileSync(join(tmp, 'scan.nrrd'), 'x');
    expect(() => parseCommandArgs(['--volume', join(tmp, 'scan.nrrd'), '--out', 'r'], spec)).toThrow(/scan\.nrrd is a file; give a folder \(import it first\)\.$/);
  });

  it('reads a JSON option file, naming the option when it is not JSON', async () => {
    writeFileSync(join(tmp, 'ok.json'), '[1, 2]');
    writeFileSync(join(tmp, 'bad.json'), '{');
    expect(await readJsonOption('classes', join(tmp, 'ok.json'))).toEqual([1, 2]);
    await expect(readJsonOption('classes', join(tmp, 'bad.json'))).rejects.toThrow(/^--classes: .*bad\.json is not valid JSON/);
    await expect(readJsonOption('classes', join(tmp, 'none.json'))).rejects.toThrow(/^--classes: .*none\.json could not be read \(ENOENT\)/);
  });
});
