/** TIFF tags read without decoding pixels: sample type, tag arrays, ImageJ info, voxel spacing. */
import type { GeoTIFFImage } from 'geotiff';
import { invalidInput, unsupported } from '../../errors';
import { safeMessage } from '../../limits';
import type { SourceDType } from '../byte-readers-node';
import { shown, unitToUm } from './header-checks-node';

export function tiffSourceType(image: GeoTIFFImage, name: string): SourceDType {
  const bits = image.getBitsPerSample();
  const fmt = (image.getSampleFormat() ?? 1) as number;
  if (image.getSamplesPerPixel() !== 1) throw unsupported(`${name} is a colour TIFF (${shown(String(image.getSamplesPerPixel()))} samples per pixel); save the slices as greyscale.`);
  const key = `${bits}/${fmt}`;
  const t: Record<string, SourceDType> = { '8/1': 'uint8', '8/2': 'int8', '16/1': 'uint16', '16/2': 'int16', '32/1': 'uint32', '32/2': 'int32', '32/3': 'float32', '64/3': 'float64' };
  const src = t[key];
  if (!src) throw unsupported(`${name}: TIFF with ${shown(String(bits))}-bit samples (format ${shown(String(fmt))}) is not supported (8/16-bit integers or 32-bit float).`);
  return src;
}

type Directory = { getValue(t: string): unknown; loadValue(t: string): Promise<unknown>; hasTag(t: string): boolean };
const dirOf = (image: GeoTIFFImage) => image.fileDirectory as unknown as Directory;

export function tagArray(image: GeoTIFFImage, tag: string): number[] | undefined {
  let v: ArrayLike<number> | number | undefined;
  try {
    v = dirOf(image).getValue(tag) as ArrayLike<number> | number | undefined;
  } catch {
    return undefined; // deferred (large) value: not needed for the header description
  }
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? [v] : Array.from(v);
}

export async function loadTagArray(image: GeoTIFFImage, tag: string, name: string): Promise<number[] | undefined> {
  const d = dirOf(image);
  if (!d.hasTag(tag)) return undefined;
  let v: unknown;
  try {
    v = await d.loadValue(tag);
  } catch (err) {
    throw invalidInput(`${name} is damaged or truncated: its ${tag} cannot be read (${safeMessage((err as Error)?.message ?? String(err), 80)}).`, { cause: err });
  }
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' || typeof v === 'bigint') return [Number(v)];
  return Array.from(v as ArrayLike<number | bigint>, Number);
}

export function imageJInfo(image: GeoTIFFImage): Record<string, string> {
  let d: unknown;
  try {
    d = dirOf(image).getValue('ImageDescription');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  if (typeof d !== 'string' || !d.startsWith('ImageJ=')) return out;
  for (const line of d.replace(/\0+$/, '').split('\n').slice(0, 100)) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1, i + 101);
  }
  return out;
}

/**
 * The voxel size an OME-TIFF's OME-XML gives (Pixels PhysicalSizeX/Y/Z and their units, µm when
 * no unit is given), or undefined when the description is not OME-XML or gives no x size.
 */
export function omeTiffSpacing(d: unknown, notes: string[]): [number, number, number] | undefined {
  if (typeof d !== 'string' || !/<OME[\s>]/.test(d.slice(0, 4096))) return undefined;
  const pixels = /<(?:\w+:)?Pixels\b[^>]*>/.exec(d)?.[0];
  if (!pixels) return undefined;
  const attr = (k: string) => new RegExp(`\\b${k}="([^"]*)"`).exec(pixels)?.[1];
  const size = (axis: 'X' | 'Y' | 'Z') => {
    const v = Number(attr(`PhysicalSize${axis}`));
    if (!(Number.isFinite(v) && v > 0)) return undefined;
    const unit = attr(`PhysicalSize${axis}Unit`) ?? 'µm';
    const f = unitToUm(unit);
    if (f === undefined) notes.push(`the OME-XML gives the ${axis.toLowerCase()} size in "${shown(unit, 12)}", not a length unit petromap knows: ignored`);
    return f === undefined ? undefined : v * f;
  };
  const sx = size('X');
  if (sx === undefined) return undefined;
  const sy = size('Y') ?? sx;
  const sz = size('Z');
  if (sz === undefined) notes.push('the OME-XML gives no slice spacing (PhysicalSizeZ); the pixel width was used for z');
  return [sz ?? sx, sy, sx];
}

/** Channels and time points an OME-TIFF's OME-XML declares (SizeC, SizeT of its first image), or undefined. */
export function omeTiffPlanes(d: string | undefined): { channels: number; times: number; images: number } | undefined {
  if (typeof d !== 'string' || !/<OME[\s>]/.test(d.slice(0, 4096))) return undefined;
  const pixels = /<(?:\w+:)?Pixels\b[^>]*>/.exec(d)?.[0];
  if (!pixels) return undefined;
  const n = (k: string) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(pixels)?.[1] ?? 1);
  return { channels: n('SizeC'), times: n('SizeT'), images: (d.match(/<(?:\w+:)?Image\b/g) ?? []).length };
}

/** The page's ImageDescription, loaded even when geotiff defers it (an OME-XML is often several kB), or undefined. */
export async function tiffDescription(image: GeoTIFFImage): Promise<string | undefined> {
  const d = dirOf(image);
  if (!d.hasTag('ImageDescription')) return undefined;
  const v = await d.loadValue('ImageDescription').catch(() => undefined);
  return typeof v === 'string' ? v : undefined;
}

/** The voxel size (z, y, x) in µm from OME-XML (`description`, see tiffDescription), ImageJ's description or the resolution tags. */
export function tiffSpacing(image: GeoTIFFImage, notes: string[], description?: string): [number, number, number] | undefined {
  const ome = omeTiffSpacing(description, notes);
  if (ome) return ome;
  const ij = imageJInfo(image);
  const xr = tagArray(image, 'XResolution');
  const yr = tagArray(image, 'YResolution');
  const ratio = (r?: number[]) => (r && r.length >= 2 && r[0]! > 0 ? r[1]! / r[0]! : r && r.length === 1 && r[0]! > 0 ? 1 / r[0]! : undefined);
  const sx = ratio(xr);
  const sy = ratio(yr) ?? sx;
  const unit = ij.unit?.replace(/\\u00B5/gi, 'µ');
  let toUm = unitToUm(unit);
  if (toUm === undefined) {
    const ru = tagArray(image, 'ResolutionUnit')?.[0];
    if (ru === 3) toUm = 1e4; // centimetre
    else if (ru === 2 && sx !== undefined && sx < 0.01) toUm = 25400; // inch: only plausible for microscopy when tiny
  }
  if (toUm === undefined || sx === undefined || !(sx > 0)) return undefined;
  const sz = ij.spacing !== undefined ? Number(ij.spacing) : undefined;
  if (sz === undefined) notes.push('the TIFF gives no slice spacing; the pixel width was used for z');
  return [(sz ?? sx) * toUm, sy! * toUm, sx * toUm];
}
