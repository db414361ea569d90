/**
 * A voxel size assumed at import, said on the command line as the web app says it ("assumed").
 *
 * A scan whose file gives no voxel size (a plain TIFF stack, PNG slices without their SkyScan log)
 * imports at 1 µm and its store records `spacingAssumed` (lib/volume: attributes.petromap). Every
 * command whose output rests on the voxel size (info, register, train, predict, run, upscale)
 * prints one warning per volume on stderr, naming the volume, the size assumed and how to give the
 * real one; `petromap info` also puts `spacingAssumed: true` in its JSON.
 */
import { basename } from 'node:path';
import { isPetromapError } from '../errors';

/** What the warning needs of a store: its path, its voxel size and whether it was assumed. */
export interface SpacingSource {
  path: string;
  meta: { spacingUm: readonly number[] };
  spacingAssumed?: boolean;
}

/**
 * A voxel size as the command line shows it: to 7 significant digits, the precision of the float32
 * a NIfTI (or TIFF, TXM) header holds it in, so 0.003 mm reads 3 µm, not 3.000000026 µm. The store
 * keeps the exact value read from the file (every computation uses it); only what is printed is rounded.
 */
export const shownUm = (v: number): number => (Number.isFinite(v) ? +v.toPrecision(7) : v);

/** `spacingUm` of a metadata object rounded for display (the object is copied, not changed). */
export function withShownSpacing<T extends { spacingUm: readonly number[] }>(meta: T): T {
  return { ...meta, spacingUm: meta.spacingUm.map(shownUm) };
}

const µm = (s: readonly number[]) => (s.every((v) => v === s[0]) ? `${+s[0]!.toPrecision(4)} µm` : `${s.map((v) => +v.toPrecision(4)).join(' x ')} µm (z, y, x)`);

/** The one-line warning for a volume whose voxel size was assumed (undefined when the file gave it). */
export function assumedSpacingWarning(command: string, store: SpacingSource, uses = 'everything in µm rests on it'): string | undefined {
  if (!store.spacingAssumed) return undefined;
  return `petromap ${command}: warning: the voxel size of ${basename(store.path.replace(/[/\\]+$/, ''))} (${µm(store.meta.spacingUm)}) was assumed at import, ` +
    `because its file gives none; ${uses}. Import the scan again with its real voxel size: petromap import <scan> --spacing z,y,x (µm) --out <new store>.`;
}

const warned = new Set<string>();

/** Prints the warning once per command and volume (a command that opens a store twice says it once). True when printed. */
export function warnIfSpacingAssumed(command: string, store: SpacingSource, uses?: string): boolean {
  const w = assumedSpacingWarning(command, store, uses);
  const key = `${command}\0${store.path}`;
  if (!w || warned.has(key)) return false;
  warned.add(key);
  process.stderr.write(`${w}\n`);
  return true;
}

/**
 * The registration's refusal of a map far larger than the scan tells a web-app user how to give the
 * voxel size on the Data step; on the command line the same advice is a `petromap import` option.
 */
export function cliVoxelSizeAdvice(err: unknown): unknown {
  if (!isPetromapError(err)) return err;
  const web = /\s*\(on the Data step, delete the volume and upload it again with its voxel size\)/;
  if (web.test(err.message)) err.message = err.message.replace(web, ' (petromap import <scan> --spacing z,y,x --out <new store>)');
  return err;
}
