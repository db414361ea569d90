/**
 * More EDS maps of one sample (issue 15 §1): a second polished face (the bottom face, registered
 * on the volume turned upside down, lib/registration/face.ts) or a second map of the top face.
 * Each is registered on its face and becomes one more label source of the one training stage
 * (trainFromLabels with a list of maps). A map that cannot be one of this sample's faces is refused
 * in words before anything is written: a legend with no mineral of a class, a map off the volume,
 * or a match far worse than the first map's (the wrong face, another sample).
 */
import type { MineralMap } from '../eds/types';
import { isPetromapError, PetromapError, unprocessable, type StageOptions } from '../errors';
import { registerEdsOnFace } from '../registration/face';
import type { RegisterOptions } from '../registration/register-eds';
import type { ClassMap } from '../registration/transfer-labels';
import type { Face, Registration } from '../registration/types';
import type { VolumeSource } from '../registration/volume-source';
import type { EdsLabels } from './train-from-labels';

export interface MoreMap {
  map: MineralMap;
  classMap: ClassMap;
  face: Face;
  /** this map's own registration options (landmarks, model, fields); the shared ones come from the run */
  register?: Omit<RegisterOptions, 'signal' | 'onProgress'>;
}

/**
 * A further map is refused when its mutual information with the scan at the registered pose is
 * below this share of the first map's. Measured on synthetic two-face sandstones: the right
 * bottom map 1.01x / 1.04x the top map's (40x128x128, seeds 21 / 23), 1.13x / 1.10x / 0.76x
 * (128x192x192, seeds 11 / 12 / 13, bench two-faces); the top map given as the bottom one
 * 0.25x / 0.46x, the bottom map given as a second top one 0.49x / 0.58x, another sample's map
 * on the bottom face 0.26x / 0.34x (40x128x128, seeds 21 / 23) and 0.40x (48x112x112, the test). The margin is narrow (0.58 to
 * 0.76): a map refused wrongly can be placed with landmarks, which skip this check.
 */
export const MIN_MATCH_OF_FIRST = 0.65;

const ordinal = (k: number) => ['second', 'third', 'fourth', 'fifth'][k] ?? `${k + 2}th`;
const nameOf = (m: MoreMap, k: number) => `The ${ordinal(k)} EDS map${m.map.source ? ` (${m.map.source})` : ''}, ${m.face} face`;

/** Register each further map on its face; throws (nothing written) when one cannot be this sample's. */
export async function registerMoreMaps(
  volume: VolumeSource,
  maps: MoreMap[],
  opts: Omit<RegisterOptions, 'landmarks' | 'surface' | 'extractedSlab' | 'fields'> & { firstMi?: number; placeWithLandmarks?: string } = {},
): Promise<{ registration: Omit<Registration, 'surface'> & { surface: Omit<Registration['surface'], 'heightMap'> }; labels: EdsLabels }[]> {
  const out = [];
  // a run's register options carry the first map's landmarks, surface and fields: not this map's
  const { landmarks: _l, surface: _s, extractedSlab: _e, fields: _f, firstMi, placeWithLandmarks, ...shared } = opts as RegisterOptions & { firstMi?: number; placeWithLandmarks?: string };
  for (const [k, m] of maps.entries()) {
    const name = nameOf(m, k);
    if (!Object.values(m.classMap).some((c) => c !== null && c !== undefined)) {
      throw unprocessable(`${name}: none of its minerals (${m.map.legend.slice(0, 8).map((p) => p.name).join(', ')}) maps to a class; give a class table that names them.`);
    }
    const so: StageOptions = { signal: opts.signal, onProgress: opts.onProgress && ((f, msg) => opts.onProgress!((k + f) / maps.length, msg)) };
    let reg;
    try {
      reg = await registerEdsOnFace(volume, m.map, m.face, { ...shared, ...m.register, ...so });
    } catch (err) {
      if (isPetromapError(err) && err._tag !== 'Aborted' && err._tag !== 'Internal') throw new PetromapError(err._tag, `${name}: ${err.message}`, { cause: err, details: err.details });
      throw err;
    }
    if (firstMi !== undefined && !m.register?.landmarks && reg.quality.miAfter < MIN_MATCH_OF_FIRST * firstMi) {
      throw unprocessable(
        `${name} does not match the ${m.face} face of the volume: at its best pose its minerals explain the grey values ` +
          `${(100 * reg.quality.miAfter / firstMi).toFixed(0)} % as well as the first map's do on the top (mutual information ${reg.quality.miAfter.toFixed(2)} vs ${firstMi.toFixed(2)} nats). ` +
          'Is it a map of this sample, of that face? (a map of the other face, or of another sample, matches this badly). ' +
          `If it is, place it with landmarks, which skip this check (${placeWithLandmarks ?? `petromap register --face ${m.face} --landmarks, then petromap train with both registrations`}).`,
        { details: { miAfter: reg.quality.miAfter, firstMi } },
      );
    }
    const { slab, ...rest } = reg;
    out.push({
      registration: { ...rest, face: m.face, surface: { ...reg.surface, heightMap: undefined } },
      labels: { kind: 'eds' as const, map: m.map, edsToSlab: reg.edsToSlab, fields: reg.fields, slabToVoxel: reg.slabToVoxel, surface: reg.surface, slab, classMap: m.classMap, face: m.face },
    });
  }
  return out;
}
