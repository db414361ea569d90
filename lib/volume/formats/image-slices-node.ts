/**
 * Slice folders that are not TIFF: greyscale PNG (8/16-bit) and BMP (8-bit grey palette, or 24/32-bit
 * with equal channels) slices, as Bruker SkyScan NRecon, Dragonfly or Avizo export them; and the
 * pixel size a SkyScan reconstruction log (`*_rec.log`, `Pixel Size (um)=`) gives for the folder.
 * Each slice's declared size is checked against the budgets before it is decoded.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { decodeRaster } from '../../eds/raster';
import { invalidInput, unsupported } from '../../errors';
import { checkDecodeBudget, type Limits } from '../../limits';
import type { SourceDType } from '../byte-readers-node';
import { shown } from './header-checks-node';

/** PNG and BMP slice files. */
export const IMAGE_SLICE_RE = /\.(png|bmp)$/i;

export interface ImageSlice {
  width: number;
  height: number;
  src: SourceDType;
  data: Uint8Array | Uint16Array;
}

/** Decodes one greyscale PNG or BMP slice (`name` for messages). */
export async function readImageSlice(path: string, name: string, limits: Limits): Promise<ImageSlice> {
  const size = (await fs.promises.stat(path)).size;
  checkDecodeBudget(`${name} (${size.toLocaleString('en')} bytes)`, size, limits);
  const bytes = new Uint8Array(await fs.promises.readFile(path));
  if (/\.bmp$/i.test(path)) return decodeBmp(bytes, name, limits);
  checkPngSlice(bytes, name, limits);
  // the slice's memory was bounded just above; the mineral-map pixel cap (and its wording) is not the slices' limit
  const r = await decodeRaster(bytes, name, { ...limits, maxMapPixels: Number.MAX_SAFE_INTEGER });
  if (r.kind === 'scalar') {
    if (!r.integer || r.bitsPerSample > 16) throw unsupported(`${name}: ${r.bitsPerSample}-bit slices are not supported; save 8- or 16-bit greyscale PNG or TIFF.`);
    const data = r.bitsPerSample > 8 ? Uint16Array.from(r.data) : Uint8Array.from(r.data);
    return { width: r.width, height: r.height, src: r.bitsPerSample > 8 ? 'uint16' : 'uint8', data };
  }
  return { width: r.width, height: r.height, src: 'uint8', data: greyOf(r.rgba, 4, name) };
}

/**
 * A PNG slice's declared size (IHDR) against the decode budget before anything is inflated: the
 * decoded samples, their copy as slice voxels, and RGBA plus grey for colour types.
 */
function checkPngSlice(b: Uint8Array, name: string, limits: Limits): void {
  if (b.length < 26 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return; // not a PNG: decodeRaster says so
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  if (!(width > 0 && height > 0)) throw invalidInput(`${name}: the PNG header declares an impossible slice size (${width} x ${height}); the file is damaged.`);
  const bytesPerSample = b[24]! > 8 ? 2 : 1;
  const perPixel = b[25] === 0 ? 2 * bytesPerSample + 1 : 4 * bytesPerSample + 4 + 1;
  checkDecodeBudget(`${name}: one slice of ${width} x ${height} pixels`, width * height * perPixel, limits);
}

/** The grey values of interleaved RGB(A) pixels whose three channels are equal; a colour image is refused. */
function greyOf(px: Uint8Array, step: number, name: string, order: [number, number, number] = [0, 1, 2]): Uint8Array {
  const n = px.length / step;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = px[i * step + order[0]]!;
    if (px[i * step + order[1]] !== r || px[i * step + order[2]] !== r) {
      throw unsupported(`${name} is a colour image (pixel ${i % 1e9} has different red, green and blue); save the slices as greyscale.`);
    }
    out[i] = r;
  }
  return out;
}

/** Uncompressed Windows bitmaps: 8-bit with a grey palette, or 24/32-bit grey; rows bottom-up unless the height is negative. */
function decodeBmp(b: Uint8Array, name: string, limits: Limits): ImageSlice {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 54 || b[0] !== 0x42 || b[1] !== 0x4d) throw invalidInput(`${name} is not a BMP image (it does not start with "BM").`);
  const dataAt = dv.getUint32(10, true);
  const dib = dv.getUint32(14, true);
  const width = dv.getInt32(18, true);
  const rawHeight = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const height = Math.abs(rawHeight);
  if (!(width > 0 && height > 0 && dib >= 40)) throw invalidInput(`${name}: the BMP header declares an impossible size (${width} x ${rawHeight}); the file is damaged.`);
  if (compression !== 0 && !(compression === 3 && bpp === 32)) throw unsupported(`${name}: compressed BMP (method ${shown(String(compression))}) is not supported; save uncompressed BMP, PNG or TIFF slices.`);
  if (![8, 24, 32].includes(bpp)) throw unsupported(`${name}: ${bpp}-bit BMP is not supported (8-bit grey, or 24/32-bit grey).`);
  checkDecodeBudget(`${name} (${width} x ${height} pixels)`, width * height * 5, limits);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataAt + stride * height > b.length) throw invalidInput(`${name} is truncated: its ${width} x ${height} pixels need ${(dataAt + stride * height).toLocaleString('en')} bytes, the file has ${b.length.toLocaleString('en')}. Copy it again.`);
  const out = new Uint8Array(width * height);
  const row = (y: number) => dataAt + (rawHeight > 0 ? height - 1 - y : y) * stride;
  if (bpp === 8) {
    const colours = dv.getUint32(46, true) || 256;
    const palAt = 14 + dib;
    if (palAt + colours * 4 > dataAt) throw invalidInput(`${name}: its palette overlaps the pixels; the file is damaged.`);
    const lut = greyOf(b.subarray(palAt, palAt + colours * 4), 4, `${name} (its palette)`, [2, 1, 0]);
    for (let y = 0; y < height; y++) {
      const o = row(y);
      for (let x = 0; x < width; x++) {
        const i = b[o + x]!;
        if (i >= colours) throw invalidInput(`${name}: a pixel names palette entry ${i} of ${colours}; the file is damaged.`);
        out[y * width + x] = lut[i]!;
      }
    }
  } else {
    const step = bpp / 8;
    for (let y = 0; y < height; y++) out.set(greyOf(b.subarray(row(y), row(y) + width * step), step, name, [2, 1, 0]), y * width);
  }
  return { width, height, src: 'uint8', data: out };
}

/**
 * The voxel size (µm) a Bruker SkyScan reconstruction log in `dir` gives (`Pixel Size (um)=…`; the
 * `*_rec.log` first, then any .log), with its file name; undefined when there is none.
 */
export async function skyscanLogSpacing(dir: string): Promise<{ um: number; file: string } | undefined> {
  const names = await fs.promises.readdir(/*turbopackIgnore: true*/ dir).catch(() => [] as string[]);
  const logs = names.filter((f) => /\.log$/i.test(f) && !f.startsWith('.')).sort((a, b) => Number(/_rec\.log$/i.test(b)) - Number(/_rec\.log$/i.test(a)));
  for (const f of logs.slice(0, 4)) {
    const p = nodePath.join(/*turbopackIgnore: true*/ dir, f);
    const st = await fs.promises.lstat(p).catch(() => null); // a link (possibly out of the folder) is not read
    if (!st?.isFile() || st.size > 1 << 20) continue;
    const m = /^\s*(?:Image )?Pixel Size \(um\)\s*=[ \t]*([^\r\n]*?)\s*$/m.exec(await fs.promises.readFile(p, 'latin1'));
    if (!m) continue;
    const um = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(m[1]!) ? Number(m[1]) : NaN;
    // XRM voxels are 0.01 µm (nano-CT) to a few mm; a value outside 1e-4 µm .. 1e5 µm is a damaged log, not a scale to apply
    if (!(um >= 1e-4 && um <= 1e5)) {
      throw invalidInput(
        `${shown(f, 40)} gives a pixel size of ${shown(Number.isFinite(um) ? String(um) : m[1] || 'nothing', 20)} µm, which is not a voxel size (0.0001 to 100000 µm); correct the "Pixel Size (um)=" line of the log, or remove the log and give the voxel size.`,
      );
    }
    return { um, file: f };
  }
  return undefined;
}
