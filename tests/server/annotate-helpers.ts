/** A workspace with a lithology project holding one small volume, for the annotate tests. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { newId } from '@/server/db/repo';
import type { Services } from '@/server/services';
import { DATASET_MARKER } from '@/server/storage/sweep';
import { writeDenseVolume } from '@/lib/volume/zarr-store-node';
import type { Shape3 } from '@/lib/volume/types';
import { tempWorkspace, type TempWorkspace } from './temp-workspace';

export type Fixture = TempWorkspace;

export function makeServices(): Fixture {
  return tempWorkspace({ prefix: 'petromap-annotate-' });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `fn()` holds, polling; fails naming `what` after `ms`. */
export async function until(what: string, fn: () => boolean, ms = 60_000, everyMs = 20) {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Add a ready uint8 volume dataset (chunk 8×16×16 so slices span several chunks). */
export async function addVolume(svc: Services, projectId: string, shape: Shape3, data: Uint8Array, name = 'core-plug.nrrd', spacingUm: [number, number, number] = [2, 2, 2]) {
  const id = newId('d');
  const dir = svc.ws.datasetDir(id);
  const store = path.join(dir, 'volume.ome.zarr');
  const meta = { shape, spacingUm, originUm: [0, 0, 0] as [number, number, number], dtype: 'uint8' as const, channels: ['XRM'] };
  const s = await writeDenseVolume(store, { meta, data }, { chunk: [8, 16, 16] });
  writeFileSync(path.join(dir, DATASET_MARKER), '{}\n'); // as an import writes it: the folder is petromap's
  return svc.repo.insertDataset({ id, projectId, name, kind: 'volume', status: 'ready', relPath: svc.ws.rel(store), info: { meta, levels: s.levels } });
}

/**
 * A layered rock phantom: along x, bands of "porous" texture (dark, speckled: grey 60 ± 50) and
 * "tight" rock (bright, smooth: 170 ± 6); the truth code is 1 in porous bands and 2 in tight ones.
 */
export function layeredPhantom(shape: Shape3, band = 12, seed = 3) {
  const [nz, ny, nx] = shape;
  const data = new Uint8Array(nz * ny * nx);
  const truth = new Uint8Array(nz * ny * nx);
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = (z * ny + y) * nx + x;
    const porous = Math.floor(x / band) % 2 === 0;
    truth[i] = porous ? 1 : 2;
    data[i] = porous ? (rand() < 0.35 ? 15 : 95) + Math.round((rand() - 0.5) * 20) : 170 + Math.round((rand() - 0.5) * 12);
  }
  return { data, truth };
}
