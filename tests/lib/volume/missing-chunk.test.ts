/**
 * A chunk file missing from a store whose every chunk was written (an imported scan, an export, a
 * finished prediction: attributes.petromap.complete) is refused in words instead of reading as
 * zeros; a sparse store (strokes, annotations: written partly by design) still reads it as empty.
 * An OME-Zarr from another tool may leave chunks out (Zarr: the fill value): the import says how many.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main as importMain } from '../../../lib/cli/import';
import { exportVolume } from '../../../lib/report/export-node';
import { importVolume } from '../../../lib/volume/import-node';
import type { Shape3 } from '../../../lib/volume/types';
import { createVolume, openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';
import { capture } from '../cli/cli-session';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'petromap-missing-chunk-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const shape: Shape3 = [24, 40, 40];
/** grey values with an all-zero slab (z 0-7): its chunks hold only zeros and are written all the same */
function scan(): Uint16Array {
  const d = new Uint16Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < d.length; i++) d[i] = i < 8 * 40 * 40 ? 0 : 100 + ((i * 7919) % 3000);
  return d;
}
const MISSING = /chunk 0\/1\/0 of pyramid level 0 is missing on disk, although every chunk of this volume was written.*restore the volume's folder from a backup/;

function chunkFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== 'zarr.json') out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out;
}

describe('a missing chunk file', () => {
  it('is refused in an imported scan (every chunk, all-zero ones too, is written), and in an export of it', async () => {
    const raw = path.join(dir, 'scan.raw');
    fs.writeFileSync(raw, Buffer.from(scan().buffer));
    const dest = path.join(dir, 'scan.ome.zarr');
    await importVolume(raw, dest, { raw: { shape, dtype: 'uint16', littleEndian: true }, chunk: [8, 16, 16] });
    const s = await openVolume(dest);
    expect(s.complete).toBe(true);
    // level 0: 3 x 3 x 3 chunks; level 1 (12 x 20 x 20): 2 x 2 x 2; level 2 ... every one written
    const expected = Array.from({ length: s.levels }, (_, k) => s.levelShape(k).reduce((n, v, a) => n * Math.ceil(v / Math.min(v, s.chunk[a]!)), 1)).reduce((a, b) => a + b, 0);
    expect(chunkFiles(dest).length).toBe(expected);
    const all = { start: [0, 0, 0] as Shape3, shape };
    expect(Array.from(await s.readBlock(all))).toEqual(Array.from(scan()));

    // an all-zero chunk deleted (before: read back as zeros, the same voxels: nothing said)
    fs.rmSync(s.chunkFile([0, 1, 0]));
    const again = await openVolume(dest);
    await expect(again.readBlock(all)).rejects.toThrow(MISSING);
    await expect(again.readBlock({ start: [0, 16, 0], shape: [1, 1, 1] })).rejects.toThrow(MISSING);
    // chunks that are there still read
    expect(Array.from(await again.readBlock({ start: [8, 0, 0], shape: [8, 16, 16] })).every((v) => v >= 100)).toBe(true);

    // an export (OME-Zarr) is marked too
    fs.writeFileSync(raw, Buffer.from(scan().buffer));
    const src = path.join(dir, 'scan2.ome.zarr');
    await importVolume(raw, src, { raw: { shape, dtype: 'uint16', littleEndian: true }, chunk: [8, 16, 16] });
    const out = path.join(dir, 'export.ome.zarr');
    await exportVolume(await openVolume(src), 'ome-zarr', out);
    const e = await openVolume(out);
    expect(e.complete).toBe(true);
    fs.rmSync(e.chunkFile([0, 1, 0]));
    await expect((await openVolume(out)).readBlock(all)).rejects.toThrow(MISSING);
  });

  it('is refused in a store writeDenseVolume wrote; a sparse store (strokes) reads it as empty', async () => {
    const p = path.join(dir, 'dense.ome.zarr');
    await writeDenseVolume(p, { meta: { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint16', channels: ['xray'] }, data: scan() }, { chunk: [8, 16, 16] });
    fs.rmSync((await openVolume(p)).chunkFile([0, 1, 0]));
    await expect((await openVolume(p)).readBlock({ start: [0, 0, 0], shape })).rejects.toThrow(MISSING);

    const strokes = path.join(dir, 'strokes.ome.zarr');
    const v = await createVolume(strokes, { shape, spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['annotations'] }, { chunk: [8, 16, 16], levels: 1 });
    await v.writeBlock({ start: [10, 20, 20], shape: [1, 2, 2] }, new Uint8Array([1, 2, 3, 4]));
    const r = await (await openVolume(strokes)).readBlock({ start: [0, 0, 0], shape });
    expect(Array.from(r).reduce((a, b) => a + b, 0)).toBe(10);
    expect((await openVolume(strokes)).complete).toBe(false);
  });

  it('of an OME-Zarr from another tool is its fill value (Zarr): the import counts and says them', async () => {
    const root = path.join(dir, 'napari.ome.zarr');
    const axes = ['z', 'y', 'x'].map((name) => ({ name, type: 'space', unit: 'micrometer' }));
    const ms = { axes, datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [2, 2, 2] }] }] };
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales: [ms] } } }));
    const arr = { zarr_format: 3, node_type: 'array', shape: [4, 8, 8], data_type: 'uint8', chunk_grid: { name: 'regular', configuration: { chunk_shape: [4, 4, 4] } },
      chunk_key_encoding: { name: 'default', configuration: { separator: '/' } }, fill_value: 7, codecs: [{ name: 'bytes' }] };
    fs.mkdirSync(path.join(root, '0'));
    fs.writeFileSync(path.join(root, '0', 'zarr.json'), JSON.stringify(arr));
    // 3 of the 4 chunks written; chunk (0, 1, 1) left out
    for (const [y, x] of [[0, 0], [0, 1], [1, 0]]) {
      fs.mkdirSync(path.join(root, '0', 'c', '0', String(y)), { recursive: true });
      fs.writeFileSync(path.join(root, '0', 'c', '0', String(y), String(x)), Buffer.alloc(64, 50));
    }
    const warnings: string[] = [];
    const dest = path.join(dir, 'napari-import.ome.zarr');
    const meta = await importVolume(root, dest, { onWarning: (w) => warnings.push(w) });
    expect(meta.sourceChunksMissing).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/^napari\.ome\.zarr: 1 of its 4 chunk files \(25\.0 %\) are missing; they were imported as 7 \(the array's fill value/)]);
    const s = await openVolume(dest);
    expect(s.sourceChunksMissing).toBe(1);
    expect(s.complete).toBe(true);
    const d = await s.readBlock({ start: [0, 0, 0], shape: [4, 8, 8] });
    expect(d.filter((v) => v === 7).length).toBe(64);
    expect(d.filter((v) => v === 50).length).toBe(192);
    // petromap import says it on stderr and counts it in the meta it prints
    const cli = await capture(() => importMain([root, '--out', path.join(dir, 'napari-cli.ome.zarr')]));
    expect(cli.code, cli.err).toBe(0);
    expect(cli.err).toMatch(/petromap import: warning: napari\.ome\.zarr: 1 of its 4 chunk files \(25\.0 %\) are missing; they were imported as 7/);
    expect(JSON.parse(cli.out).meta.sourceChunksMissing).toBe(1);
    // a whole source: no warning, no count
    fs.mkdirSync(path.join(root, '0', 'c', '0', '1'), { recursive: true });
    fs.writeFileSync(path.join(root, '0', 'c', '0', '1', '1'), Buffer.alloc(64, 50));
    const whole: string[] = [];
    const m2 = await importVolume(root, path.join(dir, 'napari-whole.ome.zarr'), { onWarning: (w) => whole.push(w) });
    expect(whole).toEqual([]);
    expect(m2.sourceChunksMissing).toBeUndefined();
  });
});
