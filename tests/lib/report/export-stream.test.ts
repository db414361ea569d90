/**
 * The streamed exporter (one exporter for CLI files and web downloads): NRRD, NIfTI and TIFF bytes
 * of single- and multi-channel stores laid out as their formats say (checked voxel by voxel and
 * with geotiff), exact lengths, the file exporter writing the same bytes, and zipped store folders.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { fromArrayBuffer } from 'geotiff';
import { afterAll, describe, expect, it } from 'vitest';
import { isPetromapError } from '../../../lib/errors';
import { exportVolume } from '../../../lib/report/export-node';
import { volumeByteStream, zipDirectory } from '../../../lib/report/export-stream-node';
import { memoryVolumeStore } from '../../../lib/volume/memory-store';
import type { Shape3, VolumeMeta } from '../../../lib/volume/types';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-export-stream-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

const shape: Shape3 = [5, 7, 6];
const plane = shape[1] * shape[2];
const n = shape[0] * plane;
const nc = 3;
const chans = Array.from({ length: nc }, (_, c) => Uint8Array.from({ length: n }, (_, i) => (i * 3 + c * 50) % 251));
const meta: VolumeMeta = { shape, spacingUm: [2, 1.5, 1.25], originUm: [10, 0, 0], dtype: 'uint8', channels: ['p1', 'p2', 'p3'] };
const multi = () => memoryVolumeStore({ meta, channels: chans });
const grey16 = Uint16Array.from({ length: n }, (_, i) => (i * 977) % 65535);
const single = () => memoryVolumeStore({ meta: { ...meta, dtype: 'uint16', channels: ['grey'] }, data: grey16 });

describe('volumeByteStream', () => {
  it('NRRD: header then voxels, channels interleaved; exact length, any slab size', async () => {
    for (const slabBytes of [1, plane * nc * 2, 1e9]) {
      const s = volumeByteStream(multi(), 'nrrd', { slabBytes });
      const buf = await collect(s.body);
      expect(buf.length).toBe(s.length);
      const text = Buffer.from(buf).toString('latin1');
      const head = text.indexOf('\n\n') + 2;
      expect(text).toContain(`sizes: 3 ${shape[2]} ${shape[1]} ${shape[0]}`);
      expect(text).toContain('labels: "p1;p2;p3" "x" "y" "z"');
      const data = buf.subarray(head);
      expect(data.length).toBe(n * nc);
      for (let i = 0; i < n; i += 7) for (let c = 0; c < nc; c++) expect(data[i * nc + c]).toBe(chans[c]![i]);
    }
    const one = volumeByteStream(multi(), 'nrrd', { channel: 1 });
    const b1 = await collect(one.body);
    expect(Buffer.from(b1.subarray(b1.length - n)).equals(Buffer.from(chans[1]!))).toBe(true);
    expect(Buffer.from(b1).toString('latin1')).toContain('dimension: 3');
  });

  it('NIfTI: 352-byte header (mm), channels one after the other', async () => {
    const s = volumeByteStream(multi(), 'nifti', { slabBytes: plane * 2 });
    const buf = await collect(s.body);
    expect(buf.length).toBe(s.length);
    const dv = new DataView(buf.buffer, buf.byteOffset);
    expect([0, 2, 4, 6, 8].map((k) => dv.getInt16(40 + k, true))).toEqual([4, shape[2], shape[1], shape[0], nc]);
    expect(dv.getFloat32(80, true)).toBeCloseTo(meta.spacingUm[2] / 1000, 9);
    expect(dv.getUint8(123)).toBe(2); // mm
    expect(Buffer.from(buf.subarray(352)).equals(Buffer.concat(chans.map((c) => Buffer.from(c))))).toBe(true);
    const u16 = await collect(volumeByteStream(single(), 'nifti').body);
    expect(new DataView(u16.buffer, u16.byteOffset).getInt16(70, true)).toBe(512);
    expect(Buffer.from(u16.subarray(352)).equals(Buffer.from(grey16.buffer))).toBe(true);
  });

  it('TIFF: one page per slice and channel in ImageJ order, read back by geotiff', async () => {
    for (const [store, pages] of [[multi(), shape[0] * nc], [single(), shape[0]]] as const) {
      const s = volumeByteStream(store, 'tiff', { slabBytes: plane * 3 });
      const buf = await collect(s.body);
      expect(buf.length).toBe(s.length);
      const tiff = await fromArrayBuffer(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
      expect(await tiff.getImageCount()).toBe(pages);
      const ncs = store.meta.channels.length;
      for (const k of [0, 1, pages - 1]) {
        const img = await tiff.getImage(k);
        expect([img.getWidth(), img.getHeight()]).toEqual([shape[2], shape[1]]);
        const [r] = (await img.readRasters()) as unknown as ArrayLike<number>[];
        const z = Math.floor(k / ncs), c = k % ncs;
        const src = ncs === 1 ? grey16 : chans[c]!;
        for (let i = 0; i < plane; i += 5) expect(r![i]).toBe(src[z * plane + i]);
      }
      const text = Buffer.from(buf.subarray(0, 1024)).toString('latin1');
      const desc = text.slice(text.indexOf('ImageJ='), text.indexOf('\0', text.indexOf('ImageJ=')));
      expect(desc).toContain(`images=${pages}`);
      expect(desc).toContain(`slices=${shape[0]}`);
      if (store.meta.channels.length > 1) expect(desc).toContain(`channels=${nc}`);
    }
  });

  it('is what the file exporter writes', async () => {
    for (const [format, ext] of [['nrrd', 'nrrd'], ['nifti', 'nii'], ['tiff', 'tif']] as const) {
      const out = join(tmp, `single.${ext}`);
      const r = await exportVolume(single(), format, out, { slabZ: 2 });
      const file = readFileSync(out);
      expect(file.length).toBe(r.bytes);
      const streamed = await collect(volumeByteStream(single(), format, { description: 'petromap export' }).body);
      expect(Buffer.from(streamed).equals(file)).toBe(true);
    }
  });

  it('stops when cancelled and refuses a channel that does not exist', async () => {
    const ac = new AbortController();
    const s = volumeByteStream(multi(), 'nifti', { slabBytes: 1, signal: ac.signal });
    await s.body.next();
    ac.abort();
    const err = await collect(s.body).catch((e) => e);
    expect(isPetromapError(err, 'Aborted')).toBe(true);
    expect(() => volumeByteStream(multi(), 'nrrd', { channel: 3 })).toThrow(/channel 3 does not exist/);
  });
});

describe('zipDirectory', () => {
  it('zips a folder (hidden files left out) under a prefix', async () => {
    const dir = join(tmp, 'store.ome.zarr');
    mkdirSync(join(dir, '0', 'c'), { recursive: true });
    writeFileSync(join(dir, 'zarr.json'), '{"a":1}');
    writeFileSync(join(dir, '0', 'c', 'chunk'), Buffer.alloc(200_000, 7));
    writeFileSync(join(dir, '.lock'), 'x');
    const zip = unzipSync(await collect(zipDirectory(dir, 'labels.ome.zarr')));
    expect(Object.keys(zip).sort()).toEqual(['labels.ome.zarr/0/c/chunk', 'labels.ome.zarr/zarr.json']);
    expect(Buffer.from(zip['labels.ome.zarr/zarr.json']!).toString()).toBe('{"a":1}');
    expect(zip['labels.ome.zarr/0/c/chunk']!.length).toBe(200_000);
  });
});
