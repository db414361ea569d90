/**
 * Decodes the 2D images an EDS import meets (PNG via fast-png, TIFF via geotiff) into one shape:
 * either colour (RGB + alpha, 8 bits) or single-channel numbers. Framework-free: bytes in, pixels out.
 */
import { decode as decodePng, hasPngSignature } from 'fast-png';
import { invalidInput } from '../errors';

export interface ColourRaster {
  kind: 'colour';
  width: number;
  height: number;
  /** RGBA, 8 bits per component, alpha 255 where the file has none */
  rgba: Uint8Array;
  resolutionUm?: number;
}

export interface ScalarRaster {
  kind: 'scalar';
  width: number;
  height: number;
  /** one value per pixel, row-major */
  data: ArrayLike<number>;
  /** integer sample type (false for float TIFF samples) */
  integer: boolean;
  bitsPerSample: number;
  resolutionUm?: number;
}

export type Raster = ColourRaster | ScalarRaster;

export function isTiff(b: Uint8Array): boolean {
  return b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43)));
}

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && hasPngSignature(b);
}

/** Resolution in pixels per inch that image programs write by default; not a real pixel size. */
const DEFAULT_DPI = [72, 96, 150, 300, 600];

function pixelUmFromDensity(perUnit: number, unitUm: number): number | undefined {
  if (!(perUnit > 0) || !Number.isFinite(perUnit)) return undefined;
  const dpi = (perUnit / unitUm) * 25400;
  if (DEFAULT_DPI.some((d) => Math.abs(dpi - d) < 0.01 * d)) return undefined;
  return unitUm / perUnit;
}

/**
 * geotiff's LZW decoder prints "ran off the end of the buffer before finding EOI_CODE" for strips
 * that TESCAN TIMA (and other writers) end without an end-of-information code; the pixels are
 * complete (checked against libtiff on the TIMA export). Only that message is silenced, only while
 * TIFFs decode.
 */
let quietDepth = 0;
let originalWarn: typeof console.warn | undefined;
function quietLzwWarnings(delta: 1 | -1): void {
  quietDepth += delta;
  if (quietDepth === 1 && delta === 1) {
    originalWarn = console.warn;
    const orig = originalWarn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('EOI_CODE')) return;
      orig.apply(console, args);
    };
  } else if (quietDepth === 0 && originalWarn) {
    console.warn = originalWarn;
    originalWarn = undefined;
  }
}

/** Decodes a PNG or TIFF; `name` is used in messages. Multi-page TIFFs: the first page. */
export async function decodeRaster(bytes: Uint8Array, name: string): Promise<Raster> {
  if (bytes.length === 0) throw invalidInput(`${name} is empty (0 bytes); export the image again.`);
  if (isPng(bytes)) return decodePngRaster(bytes, name);
  if (isTiff(bytes)) return decodeTiffRaster(bytes, name);
  throw invalidInput(`${name} is neither a PNG nor a TIFF image (its first bytes do not match either format).`);
}

function decodePngRaster(bytes: Uint8Array, name: string): Raster {
  let png;
  try {
    png = decodePng(bytes);
  } catch (err) {
    throw invalidInput(`${name}: the PNG cannot be read (${(err as Error).message}); it may be truncated.`, { cause: err });
  }
  const { width, height, channels, depth } = png;
  const n = width * height;
  const res = png.resolution;
  const resolutionUm = res && res.unit === 1 ? pixelUmFromDensity(res.x, 1e6) : undefined;
  if (png.palette) {
    const pal = png.palette as unknown as number[][];
    const trns = png.transparency;
    const idx = png.data;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const c = pal[idx[i]] ?? [0, 0, 0];
      rgba[i * 4] = c[0];
      rgba[i * 4 + 1] = c[1];
      rgba[i * 4 + 2] = c[2];
      rgba[i * 4 + 3] = c.length > 3 ? c[3] : trns && idx[i] < trns.length ? trns[idx[i]] : 255;
    }
    return { kind: 'colour', width, height, rgba, resolutionUm };
  }
  if (channels >= 3) {
    const d = png.data;
    const shift = depth === 16 ? 257 : 1;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) rgba[i * 4 + k] = shift === 1 ? d[i * channels + k] : Math.round(d[i * channels + k] / shift);
      rgba[i * 4 + 3] = channels === 4 ? (shift === 1 ? d[i * 4 + 3] : Math.round(d[i * 4 + 3] / shift)) : 255;
    }
    return { kind: 'colour', width, height, rgba, resolutionUm };
  }
  // grey or grey + alpha
  let data: ArrayLike<number> = png.data;
  if (channels === 2) {
    const g = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) g[i] = png.data[i * 2];
    data = g;
  }
  return { kind: 'scalar', width, height, data, integer: true, bitsPerSample: depth, resolutionUm };
}

async function decodeTiffRaster(bytes: Uint8Array, name: string): Promise<Raster> {
  const { fromArrayBuffer } = await import('geotiff');
  let image;
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const tiff = await fromArrayBuffer(ab);
    image = await tiff.getImage(0);
  } catch (err) {
    throw invalidInput(`${name}: the TIFF cannot be read (${(err as Error).message}); it may be truncated.`, { cause: err });
  }
  const width = image.getWidth(), height = image.getHeight(), n = width * height;
  const spp = image.getSamplesPerPixel();
  const fd = image.fileDirectory as unknown as { getValue(tag: string): unknown; hasTag(tag: string): boolean };
  const get = (tag: string): unknown => {
    try {
      return fd.hasTag(tag) ? fd.getValue(tag) : undefined;
    } catch {
      return undefined;
    }
  };
  const photometric = Number(get('PhotometricInterpretation') ?? (spp >= 3 ? 2 : 1));
  const bps = Number(image.getBitsPerSample(0));
  const sampleFormat = Number(image.getSampleFormat(0) ?? 1);
  const rational = (v: unknown): number => (Array.isArray(v) || ArrayBuffer.isView(v) ? Number((v as number[])[0]) / Number((v as number[])[1] ?? 1) : Number(v));
  const xres = get('XResolution');
  const unit = Number(get('ResolutionUnit') ?? 2);
  const resolutionUm = xres !== undefined && (unit === 2 || unit === 3) ? pixelUmFromDensity(rational(xres), unit === 2 ? 25400 : 10000) : undefined;
  let raster;
  quietLzwWarnings(+1);
  try {
    raster = (await image.readRasters({ interleave: true })) as unknown as ArrayLike<number>;
  } catch (err) {
    throw invalidInput(`${name}: the TIFF pixels cannot be decoded (${(err as Error).message}).`, { cause: err });
  } finally {
    quietLzwWarnings(-1);
  }
  if (photometric === 3 && spp === 1) {
    const cm = get('ColorMap') as ArrayLike<number> | undefined;
    if (!cm) throw invalidInput(`${name}: a palette TIFF without its colour map.`);
    const m = cm.length / 3;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const k = raster[i];
      rgba[i * 4] = cm[k] >> 8;
      rgba[i * 4 + 1] = cm[m + k] >> 8;
      rgba[i * 4 + 2] = cm[2 * m + k] >> 8;
      rgba[i * 4 + 3] = 255;
    }
    return { kind: 'colour', width, height, rgba, resolutionUm };
  }
  if (spp >= 3 && photometric === 2) {
    if (sampleFormat === 3) throw invalidInput(`${name}: a floating-point RGB TIFF; export the colour map as 8-bit RGB.`);
    const scale = bps > 8 ? (2 ** bps - 1) / 255 : 1;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) rgba[i * 4 + k] = scale === 1 ? raster[i * spp + k] : Math.round(raster[i * spp + k] / scale);
      rgba[i * 4 + 3] = spp >= 4 ? (scale === 1 ? raster[i * spp + 3] : Math.round(raster[i * spp + 3] / scale)) : 255;
    }
    return { kind: 'colour', width, height, rgba, resolutionUm };
  }
  let data: ArrayLike<number> = raster;
  if (spp > 1) {
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = raster[i * spp];
    data = d;
  }
  if (photometric === 0) {
    // WhiteIsZero: invert so larger = brighter
    const max = 2 ** bps - 1;
    data = Float64Array.from(data as ArrayLike<number>, (v) => max - v);
  }
  return { kind: 'scalar', width, height, data, integer: sampleFormat !== 3, bitsPerSample: bps, resolutionUm };
}
