/**
 * Export a stored volume (e.g. predicted labels) to formats other tools read: OME-Zarr (copy with
 * pyramid), NRRD (raw), NIfTI-1 (.nii, header written here) and a multi-page TIFF stack with an
 * ImageJ description (µm spacing). NRRD, NIfTI and TIFF are streamed a slab of slices at a time;
 * every file is written under a temp name and renamed when complete.
 */
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { PetromapError, invalidInput, throwIfAborted, unsupported, type StageOptions } from '../errors';
import { formatNrrdHeader } from '../synthetic/nrrd-writer-node';
import type { VolumeStore } from '../volume/store';
import { bytesPerVoxel, type AnyVoxelArray, type DenseVolume, type Shape3, type VolumeMeta } from '../volume/types';
import { buildPyramid, createVolume, ZarrVolumeStore } from '../volume/zarr-store-node';

export type ExportFormat = 'ome-zarr' | 'nrrd' | 'nifti' | 'tiff';

export interface ExportOptions extends StageOptions {
  channel?: number;
  /** slices read at a time (default 16) */
  slabZ?: number;
}

export interface ExportResult {
  path: string;
  format: ExportFormat;
  bytes: number;
}

const TIFF_LIMIT = 2 ** 32 - 1;

/** Write text to a temp name and rename (a failure leaves the previous file intact). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function diskError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new PetromapError('DiskFull', `The disk is full while exporting to ${path}. Free some space and try again.`, { cause: err });
  return err;
}

async function forEachSlab(store: VolumeStore, opts: ExportOptions, visit: (data: AnyVoxelArray, z0: number, depth: number) => Promise<void>): Promise<void> {
  const [nz, ny, nx] = store.meta.shape;
  const slab = opts.slabZ ?? 16;
  for (let z0 = 0; z0 < nz; z0 += slab) {
    throwIfAborted(opts.signal);
    const d = Math.min(slab, nz - z0);
    const data = await store.readBlock({ start: [z0, 0, 0], shape: [d, ny, nx] as Shape3 }, { channel: opts.channel ?? 0, signal: opts.signal });
    await visit(data, z0, d);
    opts.onProgress?.((z0 + d) / nz, `exported slice ${z0 + d} of ${nz}`);
  }
}

const bytesOf = (a: AnyVoxelArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The 352-byte NIfTI-1 single-file header (348 + empty extension flag), units micrometres. */
export function niftiHeader(meta: VolumeMeta): Uint8Array {
  const buf = new ArrayBuffer(352);
  const dv = new DataView(buf);
  const [nz, ny, nx] = meta.shape;
  const [sz, sy, sx] = meta.spacingUm;
  const [oz, oy, ox] = meta.originUm;
  const code = { uint8: 2, uint16: 512, float32: 16 }[meta.dtype];
  dv.setInt32(0, 348, true);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((v, i) => dv.setInt16(40 + 2 * i, v, true));
  dv.setInt16(70, code, true);
  dv.setInt16(72, 8 * bytesPerVoxel(meta.dtype), true);
  [1, sx, sy, sz, 1, 1, 1, 1].forEach((v, i) => dv.setFloat32(76 + 4 * i, v, true));
  dv.setFloat32(108, 352, true); // vox_offset
  dv.setFloat32(112, 1, true); // scl_slope
  dv.setFloat32(116, 0, true); // scl_inter
  dv.setUint8(123, 3); // xyzt_units: NIFTI_UNITS_MICRON
  dv.setInt16(252, 0, true); // qform_code
  dv.setInt16(254, 1, true); // sform_code: scanner-anatomical
  [sx, 0, 0, ox].forEach((v, i) => dv.setFloat32(280 + 4 * i, v, true));
  [0, sy, 0, oy].forEach((v, i) => dv.setFloat32(296 + 4 * i, v, true));
  [0, 0, sz, oz].forEach((v, i) => dv.setFloat32(312 + 4 * i, v, true));
  const desc = 'petromap export';
  for (let i = 0; i < desc.length; i++) dv.setUint8(148 + i, desc.charCodeAt(i));
  [0x6e, 0x2b, 0x31, 0].forEach((v, i) => dv.setUint8(344 + i, v)); // "n+1\0"
  return new Uint8Array(buf);
}

/** One TIFF IFD (little endian) for a page whose pixels are at `dataOffset`; `at` = IFD offset. */
function tiffIfd(meta: VolumeMeta, at: number, dataOffset: number, description: string | null): Uint8Array {
  const [nz, ny, nx] = meta.shape;
  const [sz, sy, sx] = meta.spacingUm;
  const bps = 8 * bytesPerVoxel(meta.dtype);
  const pageBytes = ny * nx * bytesPerVoxel(meta.dtype);
  type Entry = [tag: number, type: number, count: number, value: number | Uint8Array];
  const desc = description ? new TextEncoder().encode(description + '\0') : null;
  const rational = (v: number) => {
    // pixels per µm as a fraction with a large denominator
    const den = 1_000_000;
    const b = new Uint8Array(8);
    const d = new DataView(b.buffer);
    d.setUint32(0, Math.max(1, Math.round(v * den)), true);
    d.setUint32(4, den, true);
    return b;
  };
  const entries: Entry[] = [
    [254, 4, 1, 0],
    [256, 4, 1, nx],
    [257, 4, 1, ny],
    [258, 3, 1, bps],
    [259, 3, 1, 1],
    [262, 3, 1, 1],
    ...(desc ? ([[270, 2, desc.length, desc]] as Entry[]) : []),
    [273, 4, 1, dataOffset],
    [277, 3, 1, 1],
    [278, 4, 1, ny],
    [279, 4, 1, pageBytes],
    [282, 5, 1, rational(1 / sx)],
    [283, 5, 1, rational(1 / sy)],
    [296, 3, 1, 1],
    [339, 3, 1, meta.dtype === 'float32' ? 3 : 1],
  ];
  void nz; void sz;
  const n = entries.length;
  const fixed = 2 + 12 * n + 4;
  const extras = entries.filter((e) => e[3] instanceof Uint8Array && (e[3] as Uint8Array).length > 4).reduce((a, e) => a + (e[3] as Uint8Array).length + ((e[3] as Uint8Array).length & 1), 0);
  const out = new Uint8Array(fixed + extras);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, n, true);
  let extra = fixed;
  entries.forEach(([tag, type, count, value], i) => {
    const o = 2 + 12 * i;
    dv.setUint16(o, tag, true);
    dv.setUint16(o + 2, type, true);
    dv.setUint32(o + 4, count, true);
    if (value instanceof Uint8Array) {
      if (value.length <= 4) out.set(value, o + 8);
      else {
        out.set(value, extra);
        dv.setUint32(o + 8, at + extra, true);
        extra += value.length + (value.length & 1);
      }
    } else if (type === 3) dv.setUint16(o + 8, value, true);
    else dv.setUint32(o + 8, value, true);
  });
  dv.setUint32(2 + 12 * n, 0, true); // next IFD: patched by the writer
  return out;
}

async function exportStream(store: VolumeStore, format: 'nrrd' | 'nifti' | 'tiff', outPath: string, opts: ExportOptions): Promise<number> {
  const meta = store.meta;
  const [nz, ny, nx] = meta.shape;
  const bpv = bytesPerVoxel(meta.dtype);
  const pageBytes = ny * nx * bpv;
  if (format === 'tiff' && nz * (pageBytes + 512) + 1024 > TIFF_LIMIT) {
    throw unsupported(`${meta.shape.join('x')} ${meta.dtype} voxels do not fit a classic TIFF (4 GB limit); export as NRRD, NIfTI or OME-Zarr instead.`);
  }
  const tmp = `${outPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await open(tmp, 'w');
  let pos = 0;
  const put = async (b: Uint8Array, at = pos) => {
    await fh.write(b, 0, b.length, at);
    if (at === pos) pos += b.length;
  };
  try {
    if (format === 'nrrd') {
      const fake = { meta, data: new Uint8Array(0) } as unknown as DenseVolume;
      await put(Buffer.from(formatNrrdHeader(fake).replace('(synthetic sandstone)', 'export'), 'latin1'));
      await forEachSlab(store, opts, async (d) => put(bytesOf(d)));
    } else if (format === 'nifti') {
      await put(niftiHeader(meta));
      await forEachSlab(store, opts, async (d) => put(bytesOf(d)));
    } else {
      const head = new Uint8Array(8);
      const hv = new DataView(head.buffer);
      hv.setUint16(0, 0x4949, true);
      hv.setUint16(2, 42, true);
      await put(head);
      let prevNext = 4; // where the offset of the next IFD goes
      const desc = `ImageJ=1.11a\nimages=${nz}\nslices=${nz}\nunit=micron\nspacing=${meta.spacingUm[0]}\nloop=false\n`;
      await forEachSlab(store, opts, async (d, z0, depth) => {
        for (let k = 0; k < depth; k++) {
          const dataOffset = pos;
          await put(bytesOf(d).subarray(k * pageBytes, (k + 1) * pageBytes));
          if (pos & 1) await put(new Uint8Array(1));
          const ifdAt = pos;
          const ifd = tiffIfd(meta, ifdAt, dataOffset, z0 + k === 0 ? desc : null);
          await put(ifd);
          const p = new Uint8Array(4);
          new DataView(p.buffer).setUint32(0, ifdAt, true);
          await fh.write(p, 0, 4, prevNext);
          prevNext = ifdAt + 2 + 12 * new DataView(ifd.buffer).getUint16(0, true);
        }
      });
    }
    await fh.close();
    await rename(tmp, outPath);
    return pos;
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw diskError(err, outPath);
  }
}

export async function exportVolume(store: VolumeStore, format: ExportFormat, outPath: string, opts: ExportOptions = {}): Promise<ExportResult> {
  throwIfAborted(opts.signal);
  const ch = opts.channel ?? 0;
  if (!(ch >= 0 && ch < store.meta.channels.length)) throw invalidInput(`${store.path} has ${store.meta.channels.length} channel(s); channel ${ch} does not exist.`);
  if (format === 'ome-zarr') {
    const chunk = store instanceof ZarrVolumeStore ? store.chunk : ([64, 64, 64] as Shape3);
    const downsample = store instanceof ZarrVolumeStore ? store.downsample : 'mean';
    const meta: VolumeMeta = { ...store.meta, channels: [store.meta.channels[ch]] };
    const out = await createVolume(outPath, meta, { chunk, downsample });
    const [nz, ny, nx] = meta.shape;
    let bytes = 0;
    for (let z = 0; z < nz; z += chunk[0]) {
      throwIfAborted(opts.signal);
      const box = { start: [z, 0, 0] as Shape3, shape: [Math.min(chunk[0], nz - z), ny, nx] as Shape3 };
      const d = await store.readBlock(box, { channel: ch, signal: opts.signal });
      await out.writeBlock(box, d);
      bytes += d.byteLength;
      opts.onProgress?.((0.9 * Math.min(nz, z + chunk[0])) / nz, `copied slice ${Math.min(nz, z + chunk[0])} of ${nz}`);
    }
    await buildPyramid(out, { signal: opts.signal });
    opts.onProgress?.(1, 'exported');
    return { path: outPath, format, bytes };
  }
  if (format !== 'nrrd' && format !== 'nifti' && format !== 'tiff') throw unsupported(`Export format "${String(format)}" is not supported; use ome-zarr, nrrd, nifti or tiff.`);
  const bytes = await exportStream(store, format, outPath, opts);
  return { path: outPath, format, bytes };
}
