/** A workspace with a lithology project holding one small volume, for the annotate tests. */
import type { Services } from '@/server/services';
import type { Shape3 } from '@/lib/volume/types';
import { addVolumeDataset, tempWorkspace, type TempWorkspace } from './temp-workspace';

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
  const meta = { shape, spacingUm, originUm: [0, 0, 0] as [number, number, number], dtype: 'uint8' as const, channels: ['XRM'] };
  return addVolumeDataset(svc, projectId, { meta, data }, { name, chunk: [8, 16, 16], marked: true });
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
