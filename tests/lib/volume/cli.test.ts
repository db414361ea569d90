import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as importMain, parseVolumeArgs } from '../../../lib/cli/import';
import { main as infoMain } from '../../../lib/cli/info';
import { writeNrrd } from '../../../lib/synthetic/nrrd-writer-node';
import { openVolume } from '../../../lib/volume/zarr-store-node';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'petromap-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function capture(fn: () => Promise<number>) {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await fn(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('petromap import / info', () => {
  it('parses raw options', () => {
    const a = parseVolumeArgs(['scan.raw', '--raw-shape', '10,20,30', '--raw-dtype', 'int16', '--big-endian', '--spacing', '2.5,2.5,2.5', '--out', 'x.ome.zarr']);
    expect(a.sources).toEqual(['scan.raw']);
    expect(a.out).toBe('x.ome.zarr');
    expect(a.opts.raw).toEqual({ shape: [10, 20, 30], dtype: 'int16', littleEndian: false, headerBytes: undefined });
    expect(a.opts.spacingUm).toEqual([2.5, 2.5, 2.5]);
    expect(() => parseVolumeArgs(['a.raw', '--raw-shape', '10,20'])).toThrow(/three whole numbers/);
  });

  it('imports a raw file, prints progress and JSON; info describes file and store', async () => {
    const data = new Uint8Array(4 * 5 * 6).map((_, i) => i);
    await writeFile(path.join(dir, 'scan.raw'), data);
    const store = path.join(dir, 'scan.ome.zarr');
    const r = await capture(() => importMain([path.join(dir, 'scan.raw'), '--raw-shape', '4,5,6', '--raw-dtype', 'uint8', '--spacing', '3,2,2', '--out', store]));
    expect(r.err).toMatch(/petromap import.*100%/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).meta).toMatchObject({ shape: [4, 5, 6], dtype: 'uint8', spacingUm: [3, 2, 2] });
    const s = await openVolume(store);
    expect(Array.from(await s.readBlock({ start: [0, 0, 0], shape: [4, 5, 6] }))).toEqual(Array.from(data));

    const i1 = await capture(() => infoMain([store]));
    expect(i1.code).toBe(0);
    expect(JSON.parse(i1.out)).toMatchObject({ kind: 'store', levels: 1, meta: { shape: [4, 5, 6] }, compression: 'zstd' });
    await writeNrrd(path.join(dir, 'v.nrrd'), { meta: { shape: [3, 4, 5], spacingUm: [1, 0.5, 0.5], originUm: [0, 0, 0], dtype: 'uint16', channels: ['x'] }, data: new Uint16Array(60) });
    const i2 = await capture(() => infoMain([path.join(dir, 'v.nrrd')]));
    expect(JSON.parse(i2.out)).toMatchObject({ kind: 'file', format: 'nrrd', shape: [3, 4, 5], sourceType: 'uint16', spacingUm: [1, 0.5, 0.5] });
  });

  it('prints one line "petromap import: <message>" and returns 1 on error', async () => {
    await writeFile(path.join(dir, 'bad.raw'), new Uint8Array(100));
    const r = await capture(() => importMain([path.join(dir, 'bad.raw'), '--raw-shape', '4,5,6', '--raw-dtype', 'uint8', '--out', path.join(dir, 'bad.ome.zarr')]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^petromap import: bad\.raw: a raw volume of 4 x 5 x 6 .* needs 120 bytes, but the file has 100 bytes/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    const i = await capture(() => infoMain([path.join(dir, 'missing.nrrd')]));
    expect(i.code).toBe(1);
    expect(i.err).toMatch(/^petromap info: missing\.nrrd does not exist/);
  });
});
