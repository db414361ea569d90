/**
 * `petromap info <file|folder|store.ome.zarr> [--raw-shape z,y,x --raw-dtype T [--big-endian]]`
 * Prints, as JSON, what a volume file's header says (shape, voxel type, voxel size in µm, notes)
 * or, for an imported store, its metadata, pyramid levels and chunking. Reads headers only.
 */
import * as nodePath from 'node:path';
import { invalidInput, isPetromapError } from '../errors';
import { limitsFromEnv, safeMessage } from '../limits';
import { describeVolumeFile } from '../volume/import-node';
import { openVolume } from '../volume/zarr-store-node';
import { shortUsage } from './args';
import { parseVolumeArgs } from './import';
import { isPetromapStore } from './store-kind';
import { warnIfSpacingAssumed, withShownSpacing } from './voxel-size';

export const USAGE = `usage: petromap info <volume file | folder of TIFF slices | store.ome.zarr> [--format F] [--raw-shape z,y,x --raw-dtype uint16 [--big-endian] [--header-bytes N]]
  Reads headers only. Output (stdout, JSON), for a file: { kind: "file", format, shape: [z, y, x], sourceType, dtype,
  spacingUm: [z, y, x], originUm, notes: [...] }; for a store: { kind: "store", path, meta, levels, levelShapes, chunk,
  compression, pyramidComplete, spacingAssumed (true: the imported file gave no voxel size and 1 µm was assumed; a warning
  says so on stderr) }. Voxel sizes are printed to 7 significant digits (float32 headers: 0.003 mm reads 3 µm, not
  3.000000026); the store keeps the exact value.`;

export async function info(target: string | string[], argvOpts: ReturnType<typeof parseVolumeArgs>['opts'] = {}): Promise<Record<string, unknown>> {
  if (typeof target === 'string' && isPetromapStore(target)) {
    const s = await openVolume(target);
    warnIfSpacingAssumed('info', s);
    return {
      kind: 'store',
      path: nodePath.resolve(target),
      meta: withShownSpacing(s.meta),
      // the file it was imported from gave no voxel size: meta.spacingUm is an assumed 1 µm
      spacingAssumed: s.spacingAssumed,
      levels: s.levels,
      levelShapes: Array.from({ length: s.levels }, (_, k) => s.levelShape(k)),
      chunk: s.chunk,
      compression: s.compression,
      pyramidComplete: s.pyramidComplete,
    };
  }
  return { kind: 'file', ...withShownSpacing(await describeVolumeFile(target, argvOpts)) };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { sources, opts } = parseVolumeArgs(argv, USAGE);
    opts.limits = limitsFromEnv();
    if (sources.length === 0) throw invalidInput(`Give a volume file, folder or store. ${shortUsage(USAGE)}`);
    const out = await info(sources.length === 1 ? sources[0]! : sources, opts);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (err) {
    const msg = isPetromapError(err) ? err.message : (err as Error)?.message ?? String(err);
    process.stderr.write(`petromap info: ${safeMessage(msg)}\n`);
    return 1;
  }
}
