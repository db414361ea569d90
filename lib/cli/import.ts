/**
 * `petromap import <file|folder> [more slice files] --out <name.ome.zarr> [--format F]
 *   [--raw-shape z,y,x --raw-dtype uint16 [--big-endian] [--header-bytes N]] [--spacing z,y,x]
 *   [--channel NAME] [--compression zstd|gzip|none]`
 * Streams an XRM volume into a chunked OME-Zarr store (thin adapter over lib/volume/import-node).
 * Prints the stored volume's metadata as JSON on stdout; progress and notes go to stderr.
 */
import * as nodePath from 'node:path';
import { invalidInput, isPetromapError } from '../errors';
import { limitsFromEnv, safeMessage } from '../limits';
import { describeVolumeFile, importVolume, type ImportVolumeOptions } from '../volume/import-node';
import type { Shape3 } from '../volume/types';
import type { Compression } from '../volume/zarr-store-node';
import { parseCommandArgs, shortUsage } from './args';
import { nextAfterImport } from './next-step';
import { progressBar } from './progress';
import { givenSpacingNote, SPACING_OPTION } from './spacing-option';
import { withShownSpacing } from './voxel-size';

export const USAGE = `usage: petromap import <file|folder> [more slice files] --out <name.ome.zarr> [--format tiff|tiff-folder|nrrd|mha|mhd|nifti|txm|ome-zarr|raw]
       [--raw-shape z,y,x --raw-dtype uint8|int8|uint16|int16|uint32|int32|float32|float64 [--big-endian] [--header-bytes N]]
       [--spacing z,y,x (µm)] [--channel NAME] [--compression zstd|gzip|none]
  Streams an XRM volume into a chunked OME-Zarr store (default --out: <file name>.ome.zarr; it must not exist yet).
  Reads multi-page TIFF and OME-TIFF (8/16-bit, signed, float; big-endian, compressed, tiled, BigTIFF), folders of
  TIFF, PNG or BMP slices (in the names' numeric order; a SkyScan log beside them gives the voxel size), NRRD,
  MHA/MHD, NIfTI-1/2, Zeiss .txm, OME-Zarr folders from other tools (Zarr v2 or v3) and headerless raw (--raw-*).
  The voxel size comes from the file in µm (--spacing replaces it); stderr notes say where it came from. Voxel sizes are
  printed to 7 significant digits (a header's float32 0.003 mm reads 3 µm); the store keeps the file's exact value.
  Output (stdout, JSON): { store: absolute path, meta: { shape: [z, y, x], spacingUm: [z, y, x], originUm, dtype, channels } }.
  Progress, notes and the next command go to stderr.`;

const FORMATS = ['auto', 'tiff', 'tiff-folder', 'nrrd', 'mha', 'mhd', 'nifti', 'txm', 'ome-zarr', 'raw'] as const;
const RAW_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'] as const;

export interface ParsedVolumeArgs {
  sources: string[];
  out?: string;
  opts: ImportVolumeOptions;
}

const VOLUME_OPTIONS = {
  out: { kind: 'string', short: 'o' },
  format: { kind: 'string', choices: FORMATS },
  'raw-shape': { kind: 'triple', integer: true },
  'raw-dtype': { kind: 'string', choices: RAW_TYPES },
  'big-endian': { kind: 'flag' },
  'little-endian': { kind: 'flag' },
  'header-bytes': { kind: 'number', integer: true, min: 0 },
  spacing: SPACING_OPTION,
  channel: { kind: 'string' },
  compression: { kind: 'string', choices: ['zstd', 'gzip', 'none'] },
} as const;

/** Options of import that write the store: `info`, which reads headers only, refuses them. */
const WRITE_OPTIONS = ['out', 'channel', 'compression'] as const;

/**
 * Parses the options shared by `import` and `info` (every value checked here, before any file is
 * read). `readOnly` (info): an option that only shapes the store written (--out, --channel,
 * --compression) is refused in words; before, info took and ignored it.
 */
export function parseVolumeArgs(argv: string[], usage = USAGE, readOnly = false): ParsedVolumeArgs {
  const { values: v, positionals: sources } = parseCommandArgs(argv, { usage, options: VOLUME_OPTIONS, positionals: { name: 'volume file or folder' } });
  const writes = readOnly ? WRITE_OPTIONS.find((k) => v[k] !== undefined) : undefined;
  if (writes) throw invalidInput(`--${writes} is an option of petromap import (the store it writes); info reads headers only and writes nothing. ${shortUsage(usage)}`);
  const opts: ImportVolumeOptions = {};
  if (v.format) opts.format = v.format;
  if (v.spacing) opts.spacingUm = v.spacing;
  if (v.channel) opts.channelNames = [v.channel];
  if (v.compression) opts.compression = v.compression as Compression;
  if (v['raw-shape'] || v['raw-dtype']) {
    if (!v['raw-shape'] || !v['raw-dtype']) throw invalidInput(`A headerless raw file needs both --raw-shape z,y,x and --raw-dtype. ${shortUsage(usage)}`);
    opts.raw = { shape: v['raw-shape'] as Shape3, dtype: v['raw-dtype'], littleEndian: !v['big-endian'], headerBytes: v['header-bytes'] };
  }
  return { sources, out: v.out, opts };
}

function defaultOut(source: string): string {
  const base = nodePath.basename(source.replace(/[/\\]+$/, '')).replace(/\.(nii\.gz|ome\.tiff?|[^.]+)$/i, '');
  return `${base || 'volume'}.ome.zarr`;
}

export async function main(argv: string[]): Promise<number> {
  let bar: ReturnType<typeof progressBar> | undefined;
  try {
    const { sources, out, opts } = parseVolumeArgs(argv);
    opts.limits = limitsFromEnv();
    if (sources.length === 0) throw invalidInput(`Give the volume file or folder to import. ${shortUsage(USAGE)}`);
    const source = sources.length === 1 ? sources[0]! : sources;
    const dest = out ?? defaultOut(sources[0]!);
    const desc = await describeVolumeFile(source, opts);
    for (const note of desc.notes) process.stderr.write(`petromap import: note: ${note}\n`);
    const unit = opts.spacingUm && givenSpacingNote(opts.spacingUm);
    if (unit) process.stderr.write(`petromap import: note: ${unit}\n`);
    bar = progressBar('petromap import');
    const warnings: string[] = [];
    const meta = await importVolume(source, dest, { ...opts, onProgress: bar, onWarning: (w) => warnings.push(w) });
    bar.done();
    bar = undefined;
    // an OME-Zarr whose chunk files are missing in part (imported as its fill value): said, counted in the output's meta
    for (const w of warnings) process.stderr.write(`petromap import: warning: ${w}
`);
    process.stdout.write(`${JSON.stringify({ store: nodePath.resolve(dest), meta: withShownSpacing(meta) }, null, 2)}\n`);
    process.stderr.write(`petromap import: ${nextAfterImport(dest)}\n`);
    return 0;
  } catch (err) {
    bar?.done();
    const msg = isPetromapError(err) ? err.message : (err as Error)?.message ?? String(err);
    process.stderr.write(`petromap import: ${safeMessage(msg)}\n`);
    return 1;
  }
}
