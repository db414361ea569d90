/**
 * Whether a folder is a petromap store (referenced as it is) or a volume to import, an OME-Zarr
 * from another tool among them: both may hold a zarr.json, only petromap's names "petromap".
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Said when a volume file is given where an imported store is read (train, predict). */
export const STORE_HINT = 'train and predict read a volume imported with "petromap import <file> --out <name>.ome.zarr"';

/** True when `path` is a folder whose zarr.json carries petromap's attributes. */
export function isPetromapStore(path: string): boolean {
  const meta = join(path, 'zarr.json');
  try {
    if (!statSync(path).isDirectory() || !existsSync(meta) || statSync(meta).size > 1 << 20) return false;
    const attrs = (JSON.parse(readFileSync(meta, 'utf8')) as { attributes?: Record<string, unknown> }).attributes;
    return !!attrs && typeof attrs === 'object' && 'petromap' in attrs;
  } catch {
    return false;
  }
}
