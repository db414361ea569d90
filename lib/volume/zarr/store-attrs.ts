/**
 * What a petromap volume store records about itself (attributes.petromap of the group), the OME-Zarr
 * 0.5 multiscales metadata derived from it, the shapes of the pyramid levels and the chunk codecs.
 */
import type * as zarr from 'zarrita';
import { invalidInput } from '../../errors';
import type { Shape3, VolumeMeta } from '../types';

export type Compression = 'zstd' | 'gzip' | 'none';

export interface CreateVolumeOptions {
  /** chunk shape (z, y, x), default [64, 64, 64] */
  chunk?: Shape3;
  /** number of pyramid levels; default: halve until the largest axis is ≤ 64 */
  levels?: number;
  /** chunk compression, default 'zstd' (level 1; ~250 MB/s per core) */
  compression?: Compression;
  /** name recorded in the OME multiscales metadata (default: the folder name) */
  name?: string;
  /**
   * How overview levels are made: 'mean' for grey values (default), 'mode' (most frequent value of
   * each 2x2x2 block) for label and class volumes, where averaging codes would invent classes.
   */
  downsample?: Downsample;
  /** the imported file gave no voxel size: meta.spacingUm is the 1 µm the import assumed */
  spacingAssumed?: boolean;
}

export type Downsample = 'mean' | 'mode';

/** What we keep in attributes.petromap of the group. */
export interface PetromapStoreAttrs {
  formatVersion: 1;
  name: string;
  meta: VolumeMeta;
  chunk: Shape3;
  levels: number;
  compression: Compression;
  /** absent in stores written before this option: 'mean' */
  downsample?: Downsample;
  /** false until buildPyramid has filled levels ≥ 1 */
  pyramidComplete: boolean;
  /** true when the imported file gave no voxel size (meta.spacingUm was assumed); absent otherwise */
  spacingAssumed?: boolean;
  /**
   * Every chunk of level 0 (and of the overview levels once pyramidComplete) was written: set when
   * the store is finished (import, the end of a prediction, an export, writeDenseVolume). A chunk
   * file missing from such a store is damage (deleted, not copied) and is refused; stores without
   * it (painted strokes, annotations, stores written before this mark) read a missing chunk as the
   * fill value, as zarr says.
   */
  complete?: boolean;
  /** a random id given when the store is created (a re-import at the same path gets another one); absent in stores written before */
  storeId?: string;
  /** OME-Zarr import: chunks of the source that were missing (read as its fill value); absent when none */
  sourceChunksMissing?: number;
}

export const DEFAULT_CHUNK: Shape3 = [64, 64, 64];
const STOP_SIZE = 64;

/** Shapes of all pyramid levels (level 0 first). */
export function pyramidShapes(shape: Shape3, chunk: Shape3 = DEFAULT_CHUNK, levels?: number): Shape3[] {
  const out: Shape3[] = [[...shape]];
  for (;;) {
    const prev = out[out.length - 1]!;
    if (levels !== undefined ? out.length >= levels : Math.max(...prev) <= STOP_SIZE) break;
    if (prev[1] === 1 && prev[2] === 1 && prev[0] <= chunk[0]) break; // nothing left to halve
    out.push([prev[0] > chunk[0] ? Math.ceil(prev[0] / 2) : prev[0], Math.ceil(prev[1] / 2), Math.ceil(prev[2] / 2)]);
  }
  return out;
}

/** Downsampling factor of each level relative to level 0, (z, y, x). */
function levelFactors(shapes: Shape3[]): Shape3[] {
  const f: Shape3[] = [[1, 1, 1]];
  for (let k = 1; k < shapes.length; k++) {
    const p = f[k - 1]!;
    f.push([shapes[k]![0] === shapes[k - 1]![0] ? p[0] : p[0] * 2, p[1] * 2, p[2] * 2]);
  }
  return f;
}

export function omeAttributes(name: string, meta: VolumeMeta, shapes: Shape3[], downsample: Downsample) {
  const factors = levelFactors(shapes);
  return {
    version: '0.5',
    multiscales: [
      {
        name,
        type: `${downsample} (2x2x2 blocks; 1x2x2 where z is no longer halved)`,
        // asked for by the strict OME-Zarr schemas (0.4 and 0.5)
        metadata: { description: `overview levels: ${downsample} of 2x2x2 blocks (1x2x2 where z is no longer halved)`, method: `petromap ${downsample} downsampling` },
        axes: [
          { name: 'c', type: 'channel' },
          { name: 'z', type: 'space', unit: 'micrometer' },
          { name: 'y', type: 'space', unit: 'micrometer' },
          { name: 'x', type: 'space', unit: 'micrometer' },
        ],
        datasets: factors.map((f, k) => ({
          path: String(k),
          coordinateTransformations: [
            { type: 'scale', scale: [1, ...f.map((fa, a) => meta.spacingUm[a]! * fa)] },
            // the centre of a mean-downsampled voxel sits half a block in
            { type: 'translation', translation: [0, ...f.map((fa, a) => meta.originUm[a]! + ((fa - 1) / 2) * meta.spacingUm[a]!)] },
          ],
        })),
      },
    ],
    omero: { channels: meta.channels.map((label) => ({ label, active: true })) },
  };
}

export function codecsFor(compression: Compression): zarr.CodecMetadata[] {
  const bytes = { name: 'bytes', configuration: { endian: 'little' } };
  // zstd's content checksum (zstd-checksum.ts): a chunk damaged on disk fails to decode instead of reading as other voxels
  if (compression === 'zstd') return [bytes, { name: 'zstd', configuration: { level: 1, checksum: true } }];
  if (compression === 'gzip') return [bytes, { name: 'gzip', configuration: { level: 1 } }];
  return [bytes];
}

export function checkMeta(path: string, meta: VolumeMeta): void {
  const ok3 = (v: unknown, pred: (x: number) => boolean) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && pred(x));
  if (!ok3(meta.shape, (x) => Number.isInteger(x) && x >= 1)) throw invalidInput(`Volume "${path}": the size must be three whole numbers ≥ 1 (z, y, x), got ${JSON.stringify(meta.shape)}.`);
  if (!ok3(meta.spacingUm, (x) => Number.isFinite(x) && x > 0)) throw invalidInput(`Volume "${path}": the voxel size must be three positive numbers in µm (z, y, x), got ${JSON.stringify(meta.spacingUm)}.`);
  if (!ok3(meta.originUm, (x) => Number.isFinite(x))) throw invalidInput(`Volume "${path}": the origin must be three numbers in µm (z, y, x), got ${JSON.stringify(meta.originUm)}.`);
  if (!['uint8', 'uint16', 'float32'].includes(meta.dtype)) throw invalidInput(`Volume "${path}": voxel type "${meta.dtype}" is not supported (uint8, uint16 or float32).`);
  if (!Array.isArray(meta.channels) || meta.channels.length < 1) throw invalidInput(`Volume "${path}": a volume needs at least one channel name.`);
}
