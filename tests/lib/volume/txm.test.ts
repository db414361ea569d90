/**
 * Issue 16 §1: Zeiss .txm reconstructions import slice by slice. The files are written by the
 * `cfb` package (not our reader) in the stream layout of the public readers (ImageInfo/*,
 * ImageData<k>/Image<i>, 100 slices per folder); every voxel and the spacing must come back.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main as importMain } from '../../../lib/cli/import';
import { isPetromapError } from '../../../lib/errors';
import { CompoundFile } from '../../../lib/volume/formats/compound-file-node';
import { txmBytes, writeTxm, type TxmSpec } from '../../../lib/volume/formats/txm-writer-node';
import { describeVolumeFile, importVolume } from '../../../lib/volume/import-node';
import type { Shape3 } from '../../../lib/volume/types';
import { openVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-txm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function volume<T extends Uint8Array | Uint16Array | Float32Array>(Ctor: new (n: number) => T, shape: Shape3, max: number): T {
  const v = new Ctor(shape[0] * shape[1] * shape[2]);
  // a voxel's value encodes its (z, y, x): a slice swapped or shifted shows
  for (let i = 0; i < v.length; i++) v[i] = (i * 2654435761) % max;
  return v;
}

async function roundTrip(spec: TxmSpec, file = `scan${n++}.txm`) {
  const path = join(tmp, file);
  await writeTxm(path, spec);
  const dest = join(tmp, `${file}.ome.zarr`);
  const meta = await importVolume(path, dest, { chunk: [16, 32, 32] });
  const store = await openVolume(dest);
  const back = await store.readBlock({ start: [0, 0, 0], shape: meta.shape });
  return { path, meta, back };
}

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let bad = a.length === b.length ? 0 : Math.max(a.length, b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) bad++;
  return bad;
}

describe('Zeiss .txm import', () => {
  const cases: [string, Shape3, 'uint8' | 'uint16' | 'float32'][] = [
    ['8-bit, 250 slices (3 ImageData folders, mini streams)', [250, 6, 9], 'uint8'],
    ['16-bit, 101 slices (just over one folder)', [101, 12, 10], 'uint16'],
    ['16-bit, 5 slices of 48 x 64 (regular sectors)', [5, 48, 64], 'uint16'],
    ['float32, 7 slices', [7, 20, 30], 'float32'],
  ];
  for (const [label, shape, dtype] of cases) {
    it(`${label}: every voxel and the pixel size come back`, async () => {
      const voxels = dtype === 'uint8' ? volume(Uint8Array, shape, 256) : dtype === 'uint16' ? volume(Uint16Array, shape, 65536) : volume(Float32Array, shape, 1e6).map((v) => v / 7 - 3);
      const { meta, back } = await roundTrip({ shape, voxels, pixelSizeUm: 1.75 });
      expect(meta.shape).toEqual(shape);
      expect(meta.dtype).toBe(dtype);
      expect(meta.spacingUm).toEqual([1.75, 1.75, 1.75]);
      expect(mismatches(back, voxels)).toBe(0);
    });
  }

  it('a 9 MB file (more than 109 FAT sectors: DIFAT sectors) streams slice by slice', async () => {
    const shape: Shape3 = [130, 144, 256];
    const voxels = volume(Uint16Array, shape, 65536);
    const { meta, back } = await roundTrip({ shape, voxels, pixelSizeUm: 0.8 });
    expect(meta.spacingUm[0]).toBeCloseTo(0.8, 6);
    expect(mismatches(back, voxels)).toBe(0);
  });

  it('reads the header only to describe, and says where the pixel size came from', async () => {
    const path = join(tmp, 'describe.txm');
    await writeTxm(path, { shape: [3, 4, 5], voxels: new Uint16Array(60), pixelSizeUm: 12.5 });
    const d = await describeVolumeFile(path);
    expect(d).toMatchObject({ format: 'txm', shape: [3, 4, 5], sourceType: 'uint16', spacingUm: [12.5, 12.5, 12.5], spacingKnown: true });
    expect(d.notes.join(' ')).toMatch(/12\.5 µm from ImageInfo\/PixelSize/);
  });

  it('is recognised by its OLE signature without the extension', async () => {
    const path = join(tmp, 'no-extension');
    await writeTxm(path, { shape: [2, 3, 4], voxels: new Uint8Array(24).map((_, i) => i), pixelSizeUm: 2 });
    expect((await describeVolumeFile(path)).format).toBe('txm');
  });

  it('imports only the slices taken when a scan stopped early, with a note', async () => {
    const shape: Shape3 = [6, 4, 4];
    const voxels = volume(Uint16Array, shape, 65536);
    const path = join(tmp, 'stopped.txm');
    await writeTxm(path, { shape, voxels, info: { NoOfImages: 9, ImagesTaken: 6 } });
    const d = await describeVolumeFile(path);
    expect(d.shape).toEqual([6, 4, 4]);
    expect(d.notes.join(' ')).toMatch(/declares 9 slices but only 6 were taken/);
  });

  it('without ImageInfo/PixelSize: 1 µm assumed, and said so', async () => {
    const path = join(tmp, 'nopixel.txm');
    await writeTxm(path, { shape: [2, 2, 2], voxels: new Uint8Array(8), info: { PixelSize: null } });
    const d = await describeVolumeFile(path);
    expect(d.spacingKnown).toBe(false);
    expect(d.notes.join(' ')).toMatch(/1 µm was assumed/);
  });

  it('a file cut short anywhere is refused as truncated, and nothing is stored', async () => {
    const shape: Shape3 = [20, 40, 60];
    // metadata in regular sectors: a cut then falls in the slices, not in the mini stream at the end
    const bytes = txmBytes({ shape, voxels: volume(Uint16Array, shape, 65536), pixelSizeUm: 1, padInfo: true });
    for (const keep of [Math.floor(bytes.length * 0.95), Math.floor(bytes.length * 0.6), Math.floor(bytes.length / 4)]) {
      const path = join(tmp, `cut-${keep}.txm`);
      writeFileSync(path, bytes.subarray(0, keep));
      const dest = join(tmp, `cut-${keep}.ome.zarr`);
      const err = await importVolume(path, dest).catch((e: unknown) => e);
      expect(isPetromapError(err) && err.message).toMatch(new RegExp(`^cut-${keep}\\.txm is truncated: (slice \\d+ of 20 lies beyond|20 slices of 60 x 40 uint16 voxels need)`));
      expect(existsSync(dest)).toBe(false);
    }
  });

  it('refuses .txrm projections with a message saying they need reconstruction', async () => {
    const path = join(tmp, 'tomo.txrm');
    await writeTxm(path, { shape: [2, 2, 2], voxels: new Uint8Array(8) });
    const err = await describeVolumeFile(path).catch((e: unknown) => e);
    expect(isPetromapError(err) && err._tag).toBe('Unsupported');
    expect((err as Error).message).toMatch(/^tomo\.txrm holds Zeiss projections \(\.txrm\), not a reconstructed volume: reconstruct it first/);
  });

  it('the compound-file reader finds streams case-insensitively and reads them at any offset', async () => {
    const path = join(tmp, 'offsets.txm');
    const shape: Shape3 = [2, 40, 60];
    const voxels = volume(Uint16Array, shape, 65536);
    await writeTxm(path, { shape, voxels });
    const cf = await CompoundFile.open(path, 'offsets.txm');
    try {
      const e = cf.entry('imagedata1/IMAGE2')!;
      expect(e.size).toBe(40 * 60 * 2);
      const part = new Uint8Array(1000);
      await cf.read(e, 777, part);
      const want = new Uint8Array(voxels.buffer, 40 * 60 * 2 + 777, 1000);
      expect(mismatches(part, want)).toBe(0);
    } finally {
      await cf.close();
    }
  });

  it('`petromap import x.txm` writes the store and prints its metadata', async () => {
    const path = join(tmp, 'cli.txm');
    const shape: Shape3 = [4, 5, 6];
    await writeTxm(path, { shape, voxels: volume(Uint8Array, shape, 256), pixelSizeUm: 3 });
    const out: string[] = [];
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const se = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await importMain([path, '--out', join(tmp, 'cli.ome.zarr')]);
      expect(code).toBe(0);
    } finally {
      so.mockRestore();
      se.mockRestore();
    }
    const json = JSON.parse(out.join('')) as { meta: { shape: number[]; spacingUm: number[] } };
    expect(json.meta.shape).toEqual(shape);
    expect(json.meta.spacingUm).toEqual([3, 3, 3]);
  });
});
