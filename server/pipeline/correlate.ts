/**
 * The Correlate step for a project: surface slab (detect + extract, cached on disk), landmark
 * fits, automatic registration as a job, acceptance, and the slab-geometry images the UI
 * overlays (slab grey, EDS warped onto the slab, grain outlines).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { encode } from 'fast-png';
import { composeAffine2to3, type Affine2, type Affine2to3 } from '@/lib/coords';
import { invalidInput, unprocessable, type StageOptions } from '@/lib/errors';
import type { MineralMap } from '@/lib/eds/types';
import {
  detectSurface, extractSlab, fitLandmarks, registrationError, transferLabels,
  type LandmarkPair, type Registration, type Slab, type SurfaceFit,
} from '@/lib/registration';
import type { Services } from '../services';
import { writeFileAtomic } from '../storage/atomic';
import { mineralMap, volumeStore } from '../storage/open-stores';
import { autoWindow, greyPng } from '../render/slice';
import { runTask } from '../jobs/run-task';
import { projectDatasets, projectTruth } from './project-inputs';

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

export interface RegistrationRecord {
  volumeId: string;
  edsId: string;
  edsToSlab: Affine2;
  edsToVoxel: Affine2to3;
  slabToVoxel: Affine2to3;
  surface: SurfaceOut;
  quality: Registration['quality'] | { miBefore: null; miAfter: null; scoreAfter: null; coverage: null; landmarkResiduals: number[]; initialisation: 'landmarks'; refinedBy: 'none' };
  landmarks: { eds: [number, number]; slab: [number, number] }[];
  source: 'landmarks' | 'auto';
  accepted: boolean;
  truthError?: { meanVox: number; maxVox: number };
  createdAt: number;
}

const slabFiles = (svc: Services, projectId: string) => {
  const dir = svc.ws.projectDir(projectId);
  return { json: path.join(/*turbopackIgnore: true*/ dir, 'slab.json'), data: path.join(/*turbopackIgnore: true*/ dir, 'slab.f32') };
};

const stripHeightMap = (s: SurfaceFit): SurfaceOut => {
  const { heightMap: _h, ...rest } = s;
  return rest;
};

function inputs(svc: Services, projectId: string) {
  const { volume, eds } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume yet: add one on the Data step.');
  if (!eds) throw unprocessable('This project has no EDS mineral map yet: add one on the Data step.');
  return { volume, eds };
}

export async function readSlab(svc: Services, projectId: string): Promise<(SlabRecord & { data: Float32Array }) | undefined> {
  const f = slabFiles(svc, projectId);
  if (!existsSync(f.json) || !existsSync(f.data)) return undefined;
  const rec = JSON.parse(await readFile(f.json, 'utf8')) as SlabRecord;
  const buf = await readFile(f.data);
  return { ...rec, data: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4) };
}

/** Detect the surface and resample the slab along it; stored with the project. */
export async function prepareSlab(svc: Services, projectId: string, opts: StageOptions = {}): Promise<SlabRecord> {
  const { volume } = inputs(svc, projectId);
  const store = await volumeStore(svc, volume.id);
  const surface = await detectSurface(store, opts);
  const slab = await extractSlab(store, surface, opts);
  const rec: SlabRecord = { volumeId: volume.id, width: slab.width, height: slab.height, slabToVoxel: slab.slabToVoxel, normal: slab.normal, sampleDepthsVox: slab.sampleDepthsVox, surface: stripHeightMap(surface) };
  const f = slabFiles(svc, projectId);
  await writeFileAtomic(f.data, new Uint8Array(slab.data.buffer, slab.data.byteOffset, slab.data.byteLength));
  await writeFileAtomic(f.json, JSON.stringify(rec));
  return rec;
}

async function slabFor(svc: Services, projectId: string, volumeId: string, opts: StageOptions = {}) {
  const s = await readSlab(svc, projectId);
  if (s && s.volumeId === volumeId) return s;
  await prepareSlab(svc, projectId, opts);
  return (await readSlab(svc, projectId))!;
}

function truthError(svc: Services, projectId: string, edsToVoxel: Affine2to3, map: MineralMap, shape: [number, number, number]) {
  const truth = projectTruth(svc, projectId);
  if (!truth?.edsToVoxel) return undefined;
  const e = registrationError(edsToVoxel, truth.edsToVoxel as Affine2to3, map.width, map.height, shape);
  return Number.isFinite(e.mean) ? { meanVox: e.mean, maxVox: e.max } : undefined;
}

/** Instant landmark fit (no refinement): the pose the user sees while clicking. */
export async function fitProjectLandmarks(svc: Services, projectId: string, landmarks: { eds: [number, number]; slab: [number, number] }[], model: 'similarity' | 'affine') {
  const { volume, eds } = inputs(svc, projectId);
  if (landmarks.length < 3) throw invalidInput(`A landmark fit needs at least 3 pairs; there ${landmarks.length === 1 ? 'is 1' : `are ${landmarks.length}`}.`);
  const slab = await slabFor(svc, projectId, volume.id);
  const map = await mineralMap(svc, eds.id);
  const store = await volumeStore(svc, volume.id);
  const scale = model === 'affine' ? undefined : map.pixelSizeUm / store.meta.spacingUm[2];
  const fit = fitLandmarks(landmarks, { model, scale });
  const edsToVoxel = composeAffine2to3(slab.slabToVoxel, fit.edsToSlab);
  const rec: RegistrationRecord = {
    volumeId: volume.id, edsId: eds.id, edsToSlab: fit.edsToSlab, edsToVoxel, slabToVoxel: slab.slabToVoxel, surface: slab.surface,
    quality: { miBefore: null, miAfter: null, scoreAfter: null, coverage: null, landmarkResiduals: fit.residuals, initialisation: 'landmarks', refinedBy: 'none' },
    landmarks, source: 'landmarks', accepted: false, truthError: truthError(svc, projectId, edsToVoxel, map, store.meta.shape), createdAt: Date.now(),
  };
  svc.repo.setArtifact(projectId, 'registration', rec);
  return { edsToSlab: fit.edsToSlab, residuals: fit.residuals, rms: fit.rms, mirrored: fit.mirrored };
}

/** Automatic (or landmark-initialised) registration with elastix refinement, as a job. */
export function startAutoRegister(svc: Services, projectId: string, landmarks: { eds: [number, number]; slab: [number, number] }[] | undefined, model: 'similarity' | 'affine') {
  const { volume, eds } = inputs(svc, projectId);
  if (landmarks && landmarks.length > 0 && landmarks.length < 3) throw invalidInput(`Give at least 3 landmark pairs (or none for the automatic search); there are ${landmarks.length}.`);
  return svc.jobs.start('register', projectId, { volumeId: volume.id, edsId: eds.id, landmarks: landmarks?.length ?? 0, model }, async ({ signal, onProgress }) => {
    const store = await volumeStore(svc, volume.id);
    const map = await mineralMap(svc, eds.id);
    const cached = await readSlab(svc, projectId);
    const surface = cached && cached.volumeId === volume.id ? (cached.surface as SurfaceFit) : undefined;
    const pairs: LandmarkPair[] | undefined = landmarks?.length ? landmarks.map((l) => ({ eds: l.eds, slab: l.slab })) : undefined;
    const r = await runTask('register', { storePath: svc.ws.abs(volume.relPath), mapDir: svc.ws.abs(eds.relPath), landmarks: pairs, model, surface }, { signal, onProgress });
    if (!cached || cached.volumeId !== volume.id) await prepareSlab(svc, projectId);
    const rec: RegistrationRecord = {
      volumeId: volume.id, edsId: eds.id, edsToSlab: r.edsToSlab, edsToVoxel: r.edsToVoxel, slabToVoxel: r.slabToVoxel, surface: stripHeightMap(r.surface),
      quality: r.quality, landmarks: landmarks ?? [], source: 'auto', accepted: false,
      truthError: truthError(svc, projectId, r.edsToVoxel, map, store.meta.shape), createdAt: Date.now(),
    };
    svc.repo.setArtifact(projectId, 'registration', rec);
    return { quality: r.quality, truthError: rec.truthError };
  });
}

export function acceptRegistration(svc: Services, projectId: string) {
  const rec = svc.repo.artifact<RegistrationRecord>(projectId, 'registration');
  if (!rec) throw unprocessable('There is no registration to accept yet: click landmark pairs or run Auto-register first.');
  rec.accepted = true;
  svc.repo.setArtifact(projectId, 'registration', rec);
  return rec;
}

/** The slab as an 8-bit PNG (NaN outside the volume → black). */
export async function slabPng(svc: Services, projectId: string): Promise<Uint8Array> {
  const s = await readSlab(svc, projectId);
  if (!s) throw unprocessable('The surface has not been found yet: open the Correlate step first.');
  const finite = s.data.filter((v) => v === v);
  const win = autoWindow(finite.length ? finite : new Float32Array([0, 1]));
  const data = s.data.map((v) => (v === v ? v : win[0]));
  return greyPng(data, s.width, s.height, win);
}

/** The EDS map warped into slab pixels by the current registration: phase colours or grain outlines. */
export async function edsOnSlabPng(svc: Services, projectId: string, mode: 'labels' | 'outlines'): Promise<Uint8Array> {
  const rec = svc.repo.artifact<RegistrationRecord>(projectId, 'registration');
  if (!rec) throw unprocessable('There is no registration yet.');
  const s = await readSlab(svc, projectId);
  if (!s) throw unprocessable('The surface has not been found yet.');
  const map = await mineralMap(svc, rec.edsId);
  // phase ids → 1..n codes for the warp (transferLabels maps phases to uint8 codes)
  const code: Record<number, number> = {};
  map.legend.forEach((p, i) => (code[p.id] = Math.min(255, i + 1)));
  const warped = transferLabels(map, { edsToSlab: rec.edsToSlab, slabToVoxel: s.slabToVoxel }, { width: s.width, height: s.height }, code, { erodeRadius: 0 });
  const { width, height, labels } = warped;
  const rgba = new Uint8Array(width * height * 4);
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const i = v * width + u;
    const c = labels[i];
    if (mode === 'labels') {
      if (!c) continue;
      const col = map.legend[c - 1].color;
      rgba.set([col[0], col[1], col[2], 255], i * 4);
    } else {
      const r = u + 1 < width ? labels[i + 1] : c;
      const d = v + 1 < height ? labels[i + width] : c;
      if (c && (r !== c || d !== c)) rgba.set([255, 221, 0, 255], i * 4);
    }
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}
