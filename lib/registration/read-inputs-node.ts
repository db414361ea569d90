/**
 * Node-only inputs of the register CLI: a volume given as a petromap store (.ome.zarr), a
 * volume file or a synthetic sample folder (imported, streaming, into a temporary store), and an
 * EDS map in any format lib/eds reads (colour map + legend, label image + legend, TIMA export).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { importMineralMap } from '../eds/import-node';
import type { MineralMap } from '../eds/types';
import { notFound, type StageOptions } from '../errors';
import { importVolume } from '../volume/import-node';
import type { VolumeStore } from '../volume/store';
import { openVolume } from '../volume/zarr-store-node';

export interface OpenedVolume {
  store: VolumeStore;
  /** removes the temporary store, if one was made */
  close(): Promise<void>;
}

export async function openVolumeInput(path: string, opts: StageOptions = {}): Promise<OpenedVolume> {
  const st = await stat(path).catch(() => null);
  if (!st) throw notFound(`Volume ${path} does not exist.`);
  if (st.isDirectory()) {
    if (await stat(join(path, 'zarr.json')).catch(() => null)) return { store: await openVolume(path), close: async () => {} };
    for (const name of ['volume.nrrd', 'volume.mha', 'volume.nii', 'volume.tif']) {
      if (await stat(join(path, name)).catch(() => null)) return openVolumeInput(join(path, name), opts);
    }
  }
  const tmp = await mkdtemp(join(os.tmpdir(), 'petromap-volume-'));
  const dest = join(tmp, 'volume.ome.zarr');
  try {
    await importVolume(path, dest, { signal: opts.signal, onProgress: opts.onProgress });
    return { store: await openVolume(dest), close: () => rm(tmp, { recursive: true, force: true }) };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export function readMineralMapInput(map: string, legend: string | undefined, pixelSizeUm: number | undefined, opts: StageOptions = {}): Promise<MineralMap> {
  return importMineralMap({ map, legend, pixelSizeUm }, opts);
}
