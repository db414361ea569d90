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
import { progressBar } from './progress';

export const USAGE =
  'usage: petromap import <file|folder> --out <name.ome.zarr> [--format tiff|tiff-folder|nrrd|mha|mhd|nifti|raw] ' +
  '[--raw-shape z,y,x --raw-dtype uint8|int8|uint16|int16|uint32|int32|float32|float64 [--big-endian] [--header-bytes N]] ' +
  '[--spacing z,y,x (µm)] [--channel NAME] [--compression zstd|gzip|none]';

const FORMATS = ['auto', 'tiff', 'tiff-folder', 'nrrd', 'mha', 'mhd', 'nifti', 'raw'];
const RAW_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];

export interface ParsedVolumeArgs {
  sources: string[];
  out?: string;
  opts: ImportVolumeOptions;
}

function triple(flag: string, v: string, integer: boolean): [number, number, number] {
  const parts = v.split(/[,x ]/).filter(Boolean).map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p <= 0 || (integer && !Number.isInteger(p)))) {
    throw invalidInput(`${flag} needs three ${integer ? 'whole numbers' : 'positive numbers'} z,y,x (e.g. ${integer ? '700,1024,1024' : '2.5,2.5,2.5'}), got "${v}".`);
  }
  return parts as [number, number, number];
}

/** Parses the options shared by `import` and `info`. */
export function parseVolumeArgs(argv: string[], usage = USAGE): ParsedVolumeArgs {
  const sources: string[] = [];
  let out: string | undefined;
  const opts: ImportVolumeOptions = {};
  let rawShape: Shape3 | undefined;
  let rawDtype: string | undefined;
  let bigEndian = false;
  let headerBytes: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw invalidInput(`${flag} needs a value. ${usage}`);
      return v;
    };
    if (flag === '--out' || flag === '-o') out = value();
    else if (flag === '--format') {
      const f = value();
      if (!FORMATS.includes(f)) throw invalidInput(`--format must be one of ${FORMATS.join(', ')}, not "${f}".`);
      opts.format = f as ImportVolumeOptions['format'];
    } else if (flag === '--raw-shape') rawShape = triple(flag, value(), true);
    else if (flag === '--raw-dtype') {
      rawDtype = value();
      if (!RAW_TYPES.includes(rawDtype)) throw invalidInput(`--raw-dtype must be one of ${RAW_TYPES.join(', ')}, not "${rawDtype}".`);
    } else if (flag === '--big-endian') bigEndian = true;
    else if (flag === '--little-endian') bigEndian = false;
    else if (flag === '--header-bytes') {
      headerBytes = Number(value());
      if (!Number.isInteger(headerBytes) || headerBytes < 0) throw invalidInput(`--header-bytes must be a whole number ≥ 0.`);
    } else if (flag === '--spacing') opts.spacingUm = triple(flag, value(), false);
    else if (flag === '--channel') opts.channelNames = [value()];
    else if (flag === '--compression') {
      const c = value();
      if (!['zstd', 'gzip', 'none'].includes(c)) throw invalidInput(`--compression must be zstd, gzip or none, not "${c}".`);
      opts.compression = c as Compression;
    } else if (flag.startsWith('--')) throw invalidInput(`Unknown option ${flag}. ${usage}`);
    else sources.push(flag);
  }
  if (rawShape || rawDtype) {
    if (!rawShape || !rawDtype) throw invalidInput(`A headerless raw file needs both --raw-shape z,y,x and --raw-dtype. ${usage}`);
    opts.raw = { shape: rawShape, dtype: rawDtype as NonNullable<ImportVolumeOptions['raw']>['dtype'], littleEndian: !bigEndian, headerBytes };
  }
  return { sources, out, opts };
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
    if (sources.length === 0) throw invalidInput(`Give the volume file or folder to import. ${USAGE}`);
    const source = sources.length === 1 ? sources[0]! : sources;
    const dest = out ?? defaultOut(sources[0]!);
    const desc = await describeVolumeFile(source, opts);
    for (const note of desc.notes) process.stderr.write(`petromap import: note: ${note}\n`);
    bar = progressBar('petromap import');
    const meta = await importVolume(source, dest, { ...opts, onProgress: bar });
    bar.done();
    bar = undefined;
    process.stdout.write(`${JSON.stringify({ store: nodePath.resolve(dest), meta }, null, 2)}\n`);
    return 0;
  } catch (err) {
    bar?.done();
    const msg = isPetromapError(err) ? err.message : (err as Error)?.message ?? String(err);
    process.stderr.write(`petromap import: ${safeMessage(msg)}\n`);
    return 1;
  }
}
