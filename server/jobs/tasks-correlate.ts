/**
 * Correlate job steps (run in a worker thread by runTask, exported from tasks.ts) and the
 * project's stored slab they share with server/pipeline/correlate.ts:
 *   projects/<id>/slab.json  SlabRecord (surface plane, slab size and geometry, volume id)
 *   projects/<id>/slab.f32   slab grey values, row-major (v, u), raw little-endian float32
 *   projects/<id>/slab-bottom.{json,f32}  the same for the bottom face (issue 15 §1), found on the
 *                            volume turned upside down (lib/registration/face-view): its slab and
 *                            surface are in that view's frame, as lib's bottom registrations are
 * The data file is written first, then the record, each under a temp name and renamed: a reader
 * sees the old pair or the new one, and a record whose data does not have its size is ignored.
 * No server state here: no database, no Next.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Affine2, Affine2to3 } from '@/lib/coords';
import { isPetromapError, PetromapError, unprocessable, type OnProgress, type StageOptions } from '@/lib/errors';
import { loadMineralMap } from '@/lib/eds/store-node';
import type { MineralMap } from '@/lib/eds/types';
import {
  detectSurface, extractSlab, registerEdsToVolume, transferLabels,
  type ClassMap, type FieldCorrection, type FieldRect, type LandmarkPair, type RegistrationModel, type Slab, type SurfaceFit,
} from '@/lib/registration';
import { regularFields } from '@/lib/registration/refine-fields';
import { faceView, type Face } from '@/lib/registration/face-view';
import { registerMoreMaps } from '@/lib/pipeline/more-maps';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { writeFileAtomic } from '../storage/atomic';

export type SurfaceOut = Omit<SurfaceFit, 'heightMap'>;

export interface SlabRecord {
  volumeId: string;
  width: number;
  height: number;
  slabToVoxel: Affine2to3;
  normal: [number, number, number];
  sampleDepthsVox: number[];
  surface: SurfaceOut;
}

export const slabPaths = (projectDir: string, face: Face = 'top') => {
  const base = face === 'bottom' ? 'slab-bottom' : 'slab';
  return {
    json: path.join(/*turbopackIgnore: true*/ projectDir, `${base}.json`),
    data: path.join(/*turbopackIgnore: true*/ projectDir, `${base}.f32`),
  };
};

const missing = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The stored slab record (no pixels), or undefined when there is none. */
export async function readSlabRecord(projectDir: string, face: Face = 'top'): Promise<SlabRecord | undefined> {
  try {
    return JSON.parse(await readFile(slabPaths(projectDir, face).json, 'utf8')) as SlabRecord;
  } catch (err) {
    if (missing(err) || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The stored slab with its pixels, or undefined when there is none (or its two files do not match). */
export async function readSlabFiles(projectDir: string, face: Face = 'top'): Promise<(SlabRecord & { data: Float32Array }) | undefined> {
  const rec = await readSlabRecord(projectDir, face);
  if (!rec) return undefined;
  let buf: Buffer;
  try {
    buf = await readFile(slabPaths(projectDir, face).data);
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
  if (buf.byteLength !== rec.width * rec.height * 4) return undefined;
  const data = new Float32Array(rec.width * rec.height);
  new Uint8Array(data.buffer).set(buf);
  return { ...rec, data };
}

async function writeSlabFiles(projectDir: string, rec: SlabRecord, data: Float32Array, face: Face) {
  const f = slabPaths(projectDir, face);
  await writeFileAtomic(f.data, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await writeFileAtomic(f.json, JSON.stringify(rec));
}

export const stripHeightMap = (s: SurfaceFit): SurfaceOut => {
  const { heightMap: _h, ...rest } = s;
  return rest;
};

const sub = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined =>
  p && ((f, m) => p(from + (to - from) * f, m));

/**
 * The EDS map warped onto the slab for the overlay: per slab pixel the legend index + 1 of the
 * mineral there (0 = none), nearest neighbour, no erosion.
 */
export function edsOnSlabCodes(map: MineralMap, edsToSlab: Affine2, slab: { width: number; height: number; slabToVoxel: Affine2to3 }, fields?: FieldCorrection[]): Uint8Array {
  const code: Record<number, number> = {};
  map.legend.forEach((p, i) => (code[p.id] = Math.min(255, i + 1)));
  return transferLabels(map, { edsToSlab, slabToVoxel: slab.slabToVoxel, fields }, { width: slab.width, height: slab.height }, code, { erodeRadius: 0 }).labels;
}

// ---------------------------------------------------------------- tasks

export interface SlabTaskArgs {
  /** absolute paths inside the workspace */
  storePath: string;
  projectDir: string;
  volumeId: string;
  /** the face to find (default top); bottom: on the volume turned upside down */
  face?: Face;
}

/** Detect the polished surface and resample the slab along it (one pass over the top of the volume, or of its bottom); stored with the project. */
export async function correlateSlab(a: SlabTaskArgs, opts: StageOptions): Promise<SlabRecord> {
  const store = faceView(await openVolume(a.storePath), a.face ?? 'top');
  opts.onProgress?.(0, 'Finding the polished surface');
  const surface = await detectSurface(store, { signal: opts.signal, onProgress: sub(opts.onProgress, 0, 0.6) });
  opts.onProgress?.(0.6, 'Extracting the surface slab');
  const slab = await extractSlab(store, surface, { signal: opts.signal, onProgress: sub(opts.onProgress, 0.6, 0.95) });
  const rec: SlabRecord = {
    volumeId: a.volumeId, width: slab.width, height: slab.height, slabToVoxel: slab.slabToVoxel, normal: slab.normal,
    sampleDepthsVox: slab.sampleDepthsVox, surface: stripHeightMap(surface),
  };
  await writeSlabFiles(a.projectDir, rec, slab.data, a.face ?? 'top');
  opts.onProgress?.(1, 'Surface slab stored');
  return rec;
}

export interface RegisterOnSlabArgs {
  storePath: string;
  mapDir: string;
  projectDir: string;
  volumeId: string;
  landmarks?: LandmarkPair[];
  /** 'auto' keeps the affine and the field shifts only where the map supports them (issue 19) */
  model: 'auto' | RegistrationModel;
  /**
   * the field grid (columns, rows) of a stitched mosaic, for per-field shifts; it overrides the
   * map's TIMA field layout, which model 'fields' uses without a grid
   */
  fieldGrid?: [number, number];
  /**
   * issue 15 §1: the face the map shows (default top). A bottom map is registered by lib's
   * registerMoreMaps on the bottom face's stored slab, with its refusals: no mineral of the map
   * maps to a class (`classMap`), no overlap, or a match below 0.65x the top map's (`firstMi`,
   * the top registration's mutual information; absent: not checked, as with landmarks)
   */
  face?: Face;
  classMap?: ClassMap;
  firstMi?: number;
  /** the name the user gave the map (the dataset's: the uploaded file's), for lib's messages instead of the file inside its zip */
  mapName?: string;
  /** register at this EDS pixel size instead of the map's recorded one (the pixel-size search's, server/pipeline/correlate-scale.ts) */
  pixelSizeUm?: number;
  /** start from this pose on the stored slab instead of the automatic pose search (lib RegisterOptions.initialPose) */
  initialPose?: { edsToSlab: Affine2; mi?: number; secondMi?: number };
}

/** In the details of a bottom registration's error: lib refused the map itself (not a cancel, not a missing slab). */
export const REFUSED_MAP = 'refusedMap';

export const NO_FIELD_LAYOUT =
  'This EDS map has no field layout of its own (it is not a TIMA export, or it was imported before petromap kept the TIMA layout: add it again on the Data step); give the field grid of the mosaic (columns × rows).';

/** How the fields of a per-field registration were laid out, as the Correlate page says it. */
export const fieldLayoutLabel = (l: { tima: number } | { grid: [number, number] }) =>
  'tima' in l ? `TIMA field layout (${l.tima} fields)` : `regular grid ${l.grid[0]}×${l.grid[1]}`;

/**
 * The fields of a per-field registration: the grid when given, else (model 'fields') the map's
 * TIMA field layout, refused when the map has none; none for other models without a grid.
 */
export function registrationFields(map: MineralMap, model: 'auto' | RegistrationModel, fieldGrid?: [number, number]): { fields: FieldRect[]; layout: string } | undefined {
  if (fieldGrid) return { fields: regularFields(map.width, map.height, fieldGrid[0], fieldGrid[1]), layout: fieldLayoutLabel({ grid: fieldGrid }) };
  if (model !== 'fields') return undefined;
  if (!map.fields?.length) {
    throw unprocessable(NO_FIELD_LAYOUT);
  }
  return { fields: map.fields, layout: fieldLayoutLabel({ tima: map.fields.length }) };
}

/**
 * The stored slab of one face (refused when it is missing or belongs to another volume), the volume
 * and the EDS map: the inputs of every job step that works on the Correlate step's slab.
 */
export async function slabInputs(a: { projectDir: string; volumeId: string; storePath: string; mapDir: string; mapName?: string }, face: Face) {
  const s = await readSlabFiles(a.projectDir, face);
  if (!s || s.volumeId !== a.volumeId) throw unprocessable(`The surface slab of ${face === 'bottom' ? 'the bottom face of ' : ''}this volume is missing: open the Correlate step to find the surface again.`);
  const store = await openVolume(a.storePath);
  const map = await loadMineralMap(a.mapDir);
  if (a.mapName) map.source = a.mapName;
  return { s, store, map };
}

/** Register the EDS map onto the project's stored slab (no surface detection or slab extraction here). */
export async function correlateRegister(a: RegisterOnSlabArgs, opts: StageOptions) {
  const face = a.face ?? 'top';
  const { s, store, map } = await slabInputs(a, face);
  if (a.pixelSizeUm !== undefined) map.pixelSizeUm = a.pixelSizeUm;
  const perField = registrationFields(map, a.model, a.fieldGrid);
  const slab: Slab = { width: s.width, height: s.height, data: s.data, slabToVoxel: s.slabToVoxel, normal: s.normal, sampleDepthsVox: s.sampleDepthsVox };
  if (face === 'bottom') {
    const [m] = await registerMoreMaps(store, [{
      map, classMap: a.classMap ?? {}, face,
      register: { landmarks: a.landmarks, model: a.model, surface: s.surface as SurfaceFit, extractedSlab: slab, fields: perField?.fields, initialPose: a.initialPose },
    }], {
      firstMi: a.firstMi, signal: opts.signal, onProgress: opts.onProgress,
      placeWithLandmarks: 'on the Data step click "Use as the bottom face" beside it, then here click at least 3 landmark pairs on the map and the slab and Auto-register from pairs',
    }).catch((err: unknown) => {
      // lib's refusals of this map (no mineral maps to a class, no overlap, the wrong face or sample): the server keeps the map before it
      if (isPetromapError(err) && (err._tag === 'Unprocessable' || err._tag === 'InvalidInput')) {
        throw new PetromapError(err._tag, err.message, { cause: err, details: { ...err.details, [REFUSED_MAP]: true } });
      }
      throw err;
    });
    const r = m!.registration;
    return { ...r, fieldLayout: perField?.layout, surface: stripHeightMap(r.surface as SurfaceFit), overlay: edsOnSlabCodes(map, r.edsToSlab, slab, r.fields) };
  }
  const r = await registerEdsToVolume(store, map, {
    landmarks: a.landmarks, model: a.model, surface: s.surface as SurfaceFit, extractedSlab: slab, signal: opts.signal, onProgress: opts.onProgress,
    fields: perField?.fields, initialPose: a.initialPose,
  });
  const { slab: _slab, ...rest } = r;
  return { ...rest, fieldLayout: perField?.layout, surface: stripHeightMap(rest.surface), overlay: edsOnSlabCodes(map, r.edsToSlab, slab, r.fields) };
}
