/**
 * Decodes the 2D images an EDS import meets (PNG via fast-png, TIFF via geotiff) into one shape:
 * either colour (RGB + alpha, 8 bits) or single-channel numbers. Framework-free: bytes in, pixels out.
 *
 * Hostile input (issue 12): the size an image declares in its header (PNG IHDR, TIFF tags) is checked
 * against `limits.maxMapPixels` and the memory the decode would hold (decoded pixels + petromap's
 * copy) against `limits.maxDecodeBytes` before anything is decoded; a PNG whose compressed data
 * inflates to more than its header declares is refused before fast-png inflates it.
 */
import { createInflate } from 'node:zlib';
import { decode as decodePng, hasPngSignature } from 'fast-png';
import { invalidInput, isPetromapError } from '../errors';
import { checkDecodeBudget, DEFAULT_LIMITS, LIMIT_ENV, type Limits } from '../limits';
import { BOUNDED_TIFF_COMPRESSIONS, TiffBombError, boundedTiffPool } from '../volume/formats/tiff-decoders-node';

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
export async function decodeRaster(bytes: Uint8Array, name: string, limits: Limits = DEFAULT_LIMITS): Promise<Raster> {
  if (bytes.length === 0) throw invalidInput(`${name} is empty (0 bytes); export the image again.`);
  if (isPng(bytes)) return decodePngRaster(bytes, name, limits);
  if (isTiff(bytes)) return decodeTiffRaster(bytes, name, limits);
  throw invalidInput(`${name} is neither a PNG nor a TIFF image (its first bytes do not match either format).`);
}

/** Refuses an image whose declared size is beyond the pixel cap or the decode memory budget. */
export function checkRasterSize(name: string, width: number, height: number, decodeBytes: number, limits: Limits = DEFAULT_LIMITS): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw invalidInput(`${name} declares an impossible image size (${width} x ${height} pixels); the file is damaged.`);
  }
  const px = width * height;
  if (px > limits.maxMapPixels) {
    const mpx = (v: number) => (v / 1e6).toFixed(v < 1e7 ? 1 : 0);
    throw invalidInput(
      `${name} is ${width} x ${height} pixels (${mpx(px)} megapixels), more than the ${mpx(limits.maxMapPixels)} megapixels a mineral map may have (${LIMIT_ENV.maxMapPixels.name}); crop or downsample the map, or raise the limit.`,
    );
  }
  checkDecodeBudget(name, decodeBytes, limits);
}

/** PNG header (IHDR): size, bit depth, colour type, interlace. */
export function pngHeader(b: Uint8Array, name: string): { width: number; height: number; depth: number; colourType: number; channels: number; interlace: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = b.length >= 33 ? String.fromCharCode(b[12], b[13], b[14], b[15]) : '';
  if (type !== 'IHDR') throw invalidInput(`${name}: the PNG has no image header (IHDR); the file is damaged or truncated.`);
  const width = dv.getUint32(16), height = dv.getUint32(20), depth = b[24], colourType = b[25], interlace = b[28];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colourType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw invalidInput(`${name}: the PNG header declares colour type ${colourType} with ${depth} bits, which is not valid PNG; the file is damaged.`);
  return { width, height, depth, colourType, channels, interlace };
}

/** Bytes the PNG's compressed image data must inflate to (filter byte + packed row, per pass). */
function pngRawBytes(width: number, height: number, bitsPerPixel: number, interlace: number): number {
  const rowBytes = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  if (interlace !== 1) return height * (1 + rowBytes(width));
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx), h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * (1 + rowBytes(w));
  }
  return total;
}

/**
 * Inflates the PNG's IDAT data without keeping it, and refuses it if it inflates to more than
 * `limit` bytes (an inflate bomb behind a small declared size). Damaged streams are left to fast-png.
 */
async function checkPngInflatedSize(b: Uint8Array, limit: number, name: string): Promise<void> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parts: Uint8Array[] = [];
  for (let o = 8; o + 8 <= b.length; ) {
    const len = dv.getUint32(o);
    const type = String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
    if (type === 'IDAT') parts.push(b.subarray(o + 8, Math.min(b.length, o + 8 + len)));
    if (type === 'IEND') break;
    o += 12 + len;
  }
  await new Promise<void>((resolve, reject) => {
    const inf = createInflate();
    let total = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve();
    };
    inf.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        inf.destroy();
        finish(invalidInput(`${name}: the PNG's compressed data unpacks to more than its declared size; the file is damaged or hostile.`));
      }
    });
    inf.on('error', () => finish());
    inf.on('end', () => finish());
    inf.on('close', () => finish());
    for (const p of parts) inf.write(p);
    inf.end();
  });
}

/** Width and height an image declares in its header (PNG IHDR, first TIFF page's tags), without decoding pixels. */
export async function readRasterSize(bytes: Uint8Array, name: string): Promise<{ width: number; height: number }> {
  if (isPng(bytes)) return pngHeader(bytes, name);
  if (isTiff(bytes)) {
    const { fromArrayBuffer } = await import('geotiff');
    try {
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const image = await (await fromArrayBuffer(ab)).getImage(0);
      return { width: image.getWidth(), height: image.getHeight() };
    } catch (err) {
      throw invalidInput(`${name}: the TIFF cannot be read (${clipMessage(err)}); it may be truncated.`, { cause: err });
    }
  }
  throw invalidInput(`${name} is neither a PNG nor a TIFF image (its first bytes do not match either format).`);
}

/** A decoder's error message, short enough to quote. */
function clipMessage(err: unknown): string {
  const m = String((err as Error)?.message ?? err).split('\n')[0];
  return m.length > 80 ? `${m.slice(0, 79)}…` : m;
}

async function decodePngRaster(bytes: Uint8Array, name: string, limits: Limits): Promise<Raster> {
  const h = pngHeader(bytes, name);
  const n0 = h.width * h.height;
  const sampleBytes = h.depth === 16 ? 2 : 1;
  // fast-png's pixels (one byte per palette index / sample below 8 bits) + petromap's RGBA or grey copy
  const decoded = n0 * h.channels * sampleBytes;
  const copy = h.colourType === 3 || h.channels >= 3 ? n0 * 4 : h.channels === 2 ? n0 * sampleBytes : 0;
  checkRasterSize(name, h.width, h.height, decoded + copy, limits);
  await checkPngInflatedSize(bytes, pngRawBytes(h.width, h.height, h.depth * h.channels, h.interlace), name);
  let png;
  try {
    png = decodePng(bytes);
  } catch (err) {
    throw invalidInput(`${name}: the PNG cannot be read (${clipMessage(err)}); it may be truncated.`, { cause: err });
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

async function decodeTiffRaster(bytes: Uint8Array, name: string, limits: Limits): Promise<Raster> {
  const { fromArrayBuffer } = await import('geotiff');
  let image;
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const tiff = await fromArrayBuffer(ab);
    image = await tiff.getImage(0);
  } catch (err) {
    throw invalidInput(`${name}: the TIFF cannot be read (${clipMessage(err)}); it may be truncated.`, { cause: err });
  }
  const width = image.getWidth(), height = image.getHeight(), n = width * height;
  const spp = image.getSamplesPerPixel();
  const fd = image.fileDirectory as unknown as { getValue(tag: string): unknown; loadValue(tag: string): Promise<unknown>; hasTag(tag: string): boolean };
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
  {
    // declared size, before any pixel is decoded: geotiff's interleaved samples + petromap's copy
    const sampleBytes = Math.max(1, Math.ceil(bps / 8));
    if (!(spp >= 1 && spp <= 16) || !(bps >= 1 && bps <= 64)) throw invalidInput(`${name}: the TIFF declares ${spp} samples of ${bps} bits per pixel; the file is damaged.`);
    const colour = (photometric === 3 && spp === 1) || (spp >= 3 && photometric === 2);
    const copy = colour ? n * 4 : spp > 1 || photometric === 0 ? n * 8 : 0;
    checkRasterSize(name, width, height, n * spp * sampleBytes + copy, limits);
    const tw = Number(get('TileWidth') ?? 0), tl = Number(get('TileLength') ?? 0);
    if (tw > 0 && tl > 0) checkDecodeBudget(`${name} (one ${tw} x ${tl} tile)`, tw * tl * spp * sampleBytes, limits);
  }
  const rational = (v: unknown): number => (Array.isArray(v) || ArrayBuffer.isView(v) ? Number((v as number[])[0]) / Number((v as number[])[1] ?? 1) : Number(v));
  const xres = get('XResolution');
  const unit = Number(get('ResolutionUnit') ?? 2);
  const resolutionUm = xres !== undefined && (unit === 2 || unit === 3) ? pixelUmFromDensity(rational(xres), unit === 2 ? 25400 : 10000) : undefined;
  let raster;
  quietLzwWarnings(+1);
  try {
    // every strip/tile through a decoder capped at its declared size (a strip that unpacks to more is refused)
    const compression = Number(get('Compression') ?? 1);
    if (!BOUNDED_TIFF_COMPRESSIONS.has(compression)) {
      throw invalidInput(
        compression === 7 || compression === 6
          ? `${name}: the TIFF is JPEG-compressed, which changes a phase map's colours (most at grain edges), so a pixel's mineral can no longer be told from its colour. Save the map uncompressed, with LZW or with Deflate.`
          : `${name}: TIFF compression ${compression} is not supported for mineral maps; save the map uncompressed, with LZW or with Deflate.`,
      );
    }
    const tiled = Number(get('TileWidth') ?? 0) > 0;
    const blockW = tiled ? Number(get('TileWidth')) : width;
    const blockH = tiled ? Number(get('TileLength')) : Math.min(height, Number(get('RowsPerStrip') ?? height) || height);
    const pool = boundedTiffPool(blockW, blockH, spp * Math.max(1, Math.ceil(bps / 8)), image.littleEndian !== false);
    raster = (await image.readRasters({ interleave: true, pool: pool as never })) as unknown as ArrayLike<number>;
  } catch (err) {
    if (err instanceof TiffBombError) throw invalidInput(`${name}: a compressed strip of the TIFF unpacks to more data than the image's size allows; the file is damaged or was made to exhaust memory.`);
    if (isPetromapError(err)) throw err;
    throw invalidInput(`${name}: the TIFF pixels cannot be decoded (${clipMessage(err)}).`, { cause: err });
  } finally {
    quietLzwWarnings(-1);
  }
  if (photometric === 3 && spp === 1) {
    // the colour map (3 x 2^bits shorts) lies outside the page directory: geotiff loads it on demand
    const cm = (get('ColorMap') ?? (fd.hasTag('ColorMap') ? await fd.loadValue('ColorMap').catch(() => undefined) : undefined)) as ArrayLike<number> | undefined;
    if (!cm) throw invalidInput(`${name}: a palette TIFF without its colour map.`);
    const m = Math.floor(cm.length / 3);
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const k = raster[i];
      if (!(k < m)) throw invalidInput(`${name}: a pixel names palette colour ${k} but the colour map holds ${m}; the file is damaged.`);
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
