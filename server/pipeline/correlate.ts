/**
 * The Correlate step for a project: the surface slab (detect + extract) as a job whose result is
 * stored with the project, landmark fits, automatic registration on the stored slab as a job,
 * acceptance, and the slab-geometry images the UI overlays (slab grey, EDS warped onto the slab,
 * grain outlines). Requests only read what the jobs stored: no pass over the volume in here.
 *
 * Every step is per face (issue 15 §1): the top face (default; the only one of projects with one
 * map, stored as it always was) or the bottom face, whose map, slab, registration ('bottomRegistration')
 * and overlay are kept beside the top's. The bottom face is found and registered on the volume
 * turned upside down (lib/registration/face-view); its edsToVoxel is in the volume's voxels.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { encode } from 'fast-png';
import { composeAffine2to3, type Affine2, type Affine2to3 } from '@/lib/coords';
import { invalidInput, isPetromapError, PetromapError, unprocessable, type OnProgress } from '@/lib/errors';
import { storedFieldCount } from '@/lib/eds/store-node';
import type { MineralPhase } from '@/lib/eds/types';
import { edsPointToVoxel, fitLandmarks, registrationErrorAt, type LandmarkPair, type Registration, type RegistrationModel } from '@/lib/registration';
import { faceToVolume } from '@/lib/registration/face-view';
import { confidenceForModel, doubtfulUnchecked } from './registration-confidence';
import type { JobRecord } from '../db/repo';
import type { Services } from '../services';
import { writeFileAtomic } from '../storage/atomic';
import { mineralMap, volumeStore } from '../storage/open-stores';
import { autoWindow, greyPng } from '../render/slice';
import { runTask } from '../jobs/run-task';
import { edsOnSlabCodes, NO_FIELD_LAYOUT, readSlabFiles, readSlabRecord, REFUSED_MAP, type SlabRecord, type SurfaceOut } from '../jobs/tasks-correlate';
import { withProjectLock } from './annotate';
import { faceDatasets, projectClassMap, projectDatasets, projectTruth, type Face } from './project-inputs';
import { checkMapScale } from '@/lib/registration/map-scale';
import type { VolumeInfoOut } from '../routers/datasets';

export type { SlabRecord, SurfaceOut } from '../jobs/tasks-correlate';

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
  /**
   * the user confirmed a doubtful automatic registration on the Correlate page ("I checked the
   * overlay"); absent otherwise. A doubtful one is accepted, and trained on, only with it
   */
  overlayChecked?: boolean;
  truthError?: { meanVox: number; maxVox: number };
  createdAt: number;
  /** the stored EDS-on-slab overlay of this registration (projects/<id>/eds-on-slab.u8, see storeRegistration) */
  overlay?: { id: number; width: number; height: number };
  /** issue 19 (absent in registrations stored before): the transform's model, why, per-field shifts, residual map, the candidates */
  model?: Registration['model'];
  modelChoice?: Registration['modelChoice'];
  fields?: Registration['fields'];
  residual?: Registration['residual'];
  candidates?: Registration['candidates'];
  /** registered at the EDS pixel size the pixel-size search found (correlate-scale.ts), not the map's recorded one: both, µm */
  pixelSize?: { usedUm: number; givenUm: number };
}

/** A registration at the pixel size the search found, starting from the pose found there (correlate-scale.ts). */
export interface RegisterStart { pixelUm: number; givenPixelUm: number; edsToSlab: Affine2; mi: number; secondMi: number }

/** Job kind of the surface-slab job. */
export const SLAB_JOB = 'slab';

export const overlayFile = (svc: Services, projectId: string, face: Face) =>
  path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), face === 'bottom' ? 'eds-on-slab-bottom.u8' : 'eds-on-slab.u8');

/** The project-state key of a face's registration. */
export const registrationKey = (face: Face = 'top') => (face === 'bottom' ? 'bottomRegistration' : 'registration') as 'registration' | 'bottomRegistration';

function inputs(svc: Services, projectId: string, face: Face = 'top') {
  const { volume, eds } = faceDatasets(svc, projectId, face);
  if (!volume) throw unprocessable('This project has no XRM volume yet: add one on the Data step.');
  if (!eds) {
    throw unprocessable(face === 'bottom'
      ? 'This project has no EDS map of the bottom face yet: add one on the Data step (face: bottom), or mark a map there as the bottom face.'
      : 'This project has no EDS mineral map yet: add one on the Data step.');
  }
  return { volume, eds };
}

/** What the EDS import recorded about the map (datasets.ts edsInfo): size, pixel size, legend, without loading the map. */
export interface EdsInfo {
  width: number;
  height: number;
  pixelSizeUm: number;
  legend: (MineralPhase & { areaFraction?: number })[];
  /** measured pixels with no mineral / area no field covers, fractions of the map (server/routers/datasets EdsInfoOut) */
  unclassifiedFraction?: number;
  notMeasuredFraction?: number;
}
export const edsInfoOf = (eds: { info: unknown }) => eds.info as EdsInfo;
/** What the volume import recorded (datasets.ts volumeInfo): shape and voxel size, and whether it was assumed. */
const volumeInfoOf = (v: { info: unknown }) => ({ meta: (v.info as VolumeInfoOut).meta, spacingAssumed: (v.info as VolumeInfoOut).spacingAssumed });
/**
 * The registration stage's own size check (lib/registration/map-scale.ts, which the job runs
 * again), made before a job starts so the refusal comes at once: the map's classes are its legend's
 * phases that cover some of it.
 */
export function refuseOversizedMap(eds: { name: string; info: unknown }, volume: { info: unknown }) {
  const info = edsInfoOf(eds), v = volumeInfoOf(volume);
  const classes = info.legend.filter((p) => p.areaFraction === undefined || p.areaFraction > 0).length;
  checkMapScale({ ...info, name: eds.name, classes: classes || undefined }, v.meta, { spacingAssumed: v.spacingAssumed });
}

/**
 * The number of fields in the EDS map's own (TIMA) field layout, read from its stored map.json
 * (no pixels): 0 for maps without one (not TIMA, or imported before the layout was kept). The
 * Correlate page refines per field on this layout when it has one, on a regular grid otherwise.
 */
export async function edsTimaFields(svc: Services, eds: { relPath: string }): Promise<number> {
  return (await storedFieldCount(svc.ws.abs(eds.relPath))) ?? 0;
}

/** The stored slab with its pixels (train.ts, slab.png); undefined until the slab job has run. */
export function readSlab(svc: Services, projectId: string, face: Face = 'top'): Promise<(SlabRecord & { data: Float32Array }) | undefined> {
  return readSlabFiles(svc.ws.projectDir(projectId), face);
}

/** The stored slab record of the project's current volume (no pixels), or undefined. */
export async function currentSlab(svc: Services, projectId: string, volumeId: string, face: Face = 'top'): Promise<SlabRecord | undefined> {
  const s = await readSlabRecord(svc.ws.projectDir(projectId), face);
  return s && s.volumeId === volumeId ? s : undefined;
}

const ACTIVE = new Set(['queued', 'running']);

/** The latest surface-slab job of this project and volume (running, or how the last one ended). */
export function latestSlabJob(svc: Services, projectId: string, volumeId: string, face: Face = 'top'): JobRecord | undefined {
  const j = svc.repo.listJobs(projectId).find((r) => {
    const p = r.params as { volumeId?: string; face?: Face } | null;
    return r.kind === SLAB_JOB && p?.volumeId === volumeId && (p.face ?? 'top') === face;
  });
  // a row left queued/running by a server that stopped is no longer active here
  if (j && ACTIVE.has(j.state) && !svc.jobs.isActive(j.id)) return { ...j, state: 'interrupted' };
  return j;
}

/** Run the slab step (worker thread) and store its result; shared by the slab job and a register job that finds no slab. */
function computeSlab(svc: Services, projectId: string, volume: { id: string; relPath: string }, face: Face, opts: { signal?: AbortSignal; onProgress?: OnProgress }) {
  return runTask('correlateSlab', { storePath: svc.ws.abs(volume.relPath), projectDir: svc.ws.projectDir(projectId), volumeId: volume.id, face }, opts);
}

/**
 * Find the surface and extract the slab, as a job (one per project and volume: a running one is
 * returned instead of starting another). The Correlate query reports it as pending meanwhile.
 */
export function startSlabJob(svc: Services, projectId: string, face: Face = 'top'): JobRecord {
  const { volume } = inputs(svc, projectId, face);
  const cur = latestSlabJob(svc, projectId, volume.id, face);
  if (cur && ACTIVE.has(cur.state)) return cur;
  return svc.jobs.start(SLAB_JOB, projectId, { volumeId: volume.id, ...(face === 'bottom' ? { face } : {}) }, async ({ signal, onProgress }) => {
    const rec = await computeSlab(svc, projectId, volume, face, { signal, onProgress });
    return { width: rec.width, height: rec.height, surface: rec.surface };
  });
}

/** Run the slab job to its end and return what it stored (tests, scripts; never a request handler). */
export async function prepareSlab(svc: Services, projectId: string, face: Face = 'top'): Promise<SlabRecord> {
  const j = await svc.jobs.wait(startSlabJob(svc, projectId, face).id);
  if (j.state !== 'done') throw unprocessable(`Finding the surface ${j.state === 'failed' ? `failed: ${j.error}` : `was ${j.state}`}.`);
  const { volume } = inputs(svc, projectId, face);
  const s = await currentSlab(svc, projectId, volume.id, face);
  if (!s) throw unprocessable('The surface slab job finished but stored no slab.');
  return s;
}

function truthError(svc: Services, projectId: string, edsToVoxel: Affine2to3, map: { width: number; height: number }, shape: [number, number, number], fields?: Registration['fields'], face: Face = 'top') {
  const truth = projectTruth(svc, projectId);
  const t = (face === 'bottom' ? truth?.bottom?.edsToVoxel : truth?.edsToVoxel) as Affine2to3 | undefined;
  if (!t) return undefined;
  const e = registrationErrorAt((u, v) => edsPointToVoxel({ edsToVoxel, fields }, u, v), (u, v) => edsPointToVoxel({ edsToVoxel: t }, u, v), map.width, map.height, shape);
  return Number.isFinite(e.mean) ? { meanVox: e.mean, maxVox: e.max } : undefined;
}

/**
 * Store a registration with its EDS-on-slab overlay (legend index + 1 per slab pixel). Under the
 * project's lock, so writes go one after the other (the record always names the overlay written
 * with it, whichever fit or job came last) and never during a volume switch (switch-volume.ts): a
 * registration computed on the volume the project left is not stored over the chosen one's work.
 */
function storeRegistration(svc: Services, projectId: string, rec: RegistrationRecord, codes: Uint8Array, size: { width: number; height: number }, face: Face) {
  return withProjectLock(projectId, async () => {
    if (projectDatasets(svc, projectId).volume?.id !== rec.volumeId) {
      throw unprocessable('The project switched to another volume while this registration was computed: it was not stored. Register again on the volume in use.');
    }
    const id = randomInt(1, 2 ** 31);
    const buf = new Uint8Array(4 + codes.length);
    new DataView(buf.buffer).setUint32(0, id, true);
    buf.set(codes, 4);
    await writeFileAtomic(overlayFile(svc, projectId, face), buf);
    svc.repo.setArtifact(projectId, registrationKey(face), { ...rec, overlay: { id, width: size.width, height: size.height } });
  });
}

const slabMissing = () => unprocessable('The surface has not been found yet: wait for the surface job on the Correlate step (or click Find surface).');

/** Instant landmark fit (no refinement): the pose the user sees while clicking. Uses the stored slab. */
export async function fitProjectLandmarks(svc: Services, projectId: string, landmarks: { eds: [number, number]; slab: [number, number] }[], model: 'similarity' | 'affine', face: Face = 'top') {
  const { volume, eds } = inputs(svc, projectId, face);
  if (landmarks.length < 3) throw invalidInput(`A landmark fit needs at least 3 pairs; there ${landmarks.length === 1 ? 'is 1' : `are ${landmarks.length}`}.`);
  const slab = await currentSlab(svc, projectId, volume.id, face);
  if (!slab) throw slabMissing();
  const map = await mineralMap(svc, eds.id);
  const store = await volumeStore(svc, volume.id);
  const scale = model === 'affine' ? undefined : map.pixelSizeUm / store.meta.spacingUm[2];
  const fit = fitLandmarks(landmarks, { model, scale });
  // the bottom face's slab is in the volume turned upside down: edsToVoxel in the volume's own voxels
  const edsToVoxel = faceToVolume(composeAffine2to3(slab.slabToVoxel, fit.edsToSlab), face, store.meta.shape[0]);
  const rec: RegistrationRecord = {
    volumeId: volume.id, edsId: eds.id, edsToSlab: fit.edsToSlab, edsToVoxel, slabToVoxel: slab.slabToVoxel, surface: slab.surface,
    quality: { miBefore: null, miAfter: null, scoreAfter: null, coverage: null, landmarkResiduals: fit.residuals, initialisation: 'landmarks', refinedBy: 'none' },
    landmarks, source: 'landmarks', accepted: false, truthError: truthError(svc, projectId, edsToVoxel, map, store.meta.shape, undefined, face), createdAt: Date.now(),
  };
  // nearest-neighbour warp of the map onto the (2D) slab for the overlay image
  await storeRegistration(svc, projectId, rec, edsOnSlabCodes(map, fit.edsToSlab, slab), slab, face);
  return { edsToSlab: fit.edsToSlab, residuals: fit.residuals, rms: fit.rms, mirrored: fit.mirrored };
}

/**
 * Automatic (or landmark-initialised) registration with elastix refinement, as a job, on the
 * project's stored slab: the slab job's result (it runs first on the same queue), or computed
 * once here when there is none yet.
 */
export function startAutoRegister(svc: Services, projectId: string, landmarks: { eds: [number, number]; slab: [number, number] }[] | undefined, model: 'auto' | RegistrationModel, fieldGrid?: [number, number], face: Face = 'top', start?: RegisterStart) {
  const { volume, eds } = inputs(svc, projectId, face);
  if (landmarks && landmarks.length > 0 && landmarks.length < 3) throw invalidInput(`Give at least 3 landmark pairs (or none for the automatic search); there are ${landmarks.length}.`);
  if (!landmarks?.length && !start) refuseOversizedMap(eds, volume);
  const check = face === 'bottom' && !landmarks?.length ? firstMapMatch(svc, projectId, volume.id) : undefined;
  // model 'fields' without a grid: the map's TIMA field layout (the task refuses a map without one)
  return svc.jobs.start('register', projectId, { volumeId: volume.id, edsId: eds.id, landmarks: landmarks?.length ?? 0, model, fieldGrid, ...(face === 'bottom' ? { face } : {}), ...(start ? { pixelUm: start.pixelUm } : {}) }, async ({ signal, onProgress }) => {
    // refused before the surface is searched for (the task checks the loaded map again)
    if (model === 'fields' && !fieldGrid && !(await edsTimaFields(svc, eds))) throw unprocessable(NO_FIELD_LAYOUT);
    let from = 0;
    if (!(await currentSlab(svc, projectId, volume.id, face))) {
      from = 0.2;
      await computeSlab(svc, projectId, volume, face, { signal, onProgress: (f, m) => onProgress(from * f, m ?? 'Finding the surface') });
    }
    const pairs: LandmarkPair[] | undefined = landmarks?.length ? landmarks.map((l) => ({ eds: l.eds, slab: l.slab })) : undefined;
    const classMap = face === 'bottom' ? Object.fromEntries(projectClassMap(svc, projectId, edsInfoOf(eds).legend, face).map((e) => [e.phaseId, e.classCode])) : undefined;
    const r = await runTask('correlateRegister', {
      storePath: svc.ws.abs(volume.relPath), mapDir: svc.ws.abs(eds.relPath), projectDir: svc.ws.projectDir(projectId), volumeId: volume.id, landmarks: pairs, model, fieldGrid, mapName: eds.name,
      ...(face === 'bottom' ? { face, classMap, firstMi: check?.miAfter } : {}),
      ...(start ? { pixelSizeUm: start.pixelUm, initialPose: { edsToSlab: start.edsToSlab, mi: start.mi, secondMi: start.secondMi } } : {}),
    }, { signal, onProgress: (f, m) => onProgress(from + (1 - from) * f, m) }).catch((err: unknown) => {
      throw face === 'bottom' && !pairs ? refuseBottomMap(svc, projectId, eds, err) : err;
    });
    const store = await volumeStore(svc, volume.id);
    const rec: RegistrationRecord = {
      volumeId: volume.id, edsId: eds.id, edsToSlab: r.edsToSlab, edsToVoxel: r.edsToVoxel, slabToVoxel: r.slabToVoxel, surface: r.surface,
      quality: r.quality, landmarks: landmarks ?? [], source: 'auto', accepted: false,
      truthError: truthError(svc, projectId, r.edsToVoxel, edsInfoOf(eds), store.meta.shape, r.fields, face), createdAt: Date.now(),
      model: r.model, modelChoice: r.modelChoice, fields: r.fields, residual: r.residual, candidates: r.candidates,
      ...(start ? { pixelSize: { usedUm: start.pixelUm, givenUm: start.givenPixelUm } } : {}),
    };
    await storeRegistration(svc, projectId, rec, r.overlay, { width: r.slabSize[0], height: r.slabSize[1] }, face);
    return { quality: r.quality, truthError: rec.truthError, model: r.model, reason: r.modelChoice?.reason, ...(r.fieldLayout ? { fieldLayout: r.fieldLayout } : {}) };
  });
}

/**
 * A bottom map lib refused in its automatic registration (tasks-correlate REFUSED_MAP): recorded in
 * 'refusedMaps', so it is not the project's bottom map any more and the map before it (with its
 * registration, which the refusal did not touch) is again. The error says so. Other errors pass.
 */
function refuseBottomMap(svc: Services, projectId: string, eds: { id: string; name: string }, err: unknown): unknown {
  if (!isPetromapError(err) || !err.details?.[REFUSED_MAP]) return err;
  const refused = svc.repo.artifact(projectId, 'refusedMaps') ?? {};
  refused[eds.id] = { face: 'bottom', reason: err.message, at: Date.now() };
  svc.repo.setArtifact(projectId, 'refusedMaps', refused);
  const { bottomEds: before } = projectDatasets(svc, projectId);
  const rec = before && svc.repo.artifact(projectId, 'bottomRegistration');
  const kept = !before
    ? `${eds.name} is not used as the bottom face's map: the project has no bottom map now.`
    : `${eds.name} is not used as the bottom face's map: ${before.name} is again${rec?.edsId === before.id ? `, with its registration${rec.accepted ? ' (accepted)' : ''}` : ''}.`;
  const { [REFUSED_MAP]: _r, ...details } = err.details;
  return new PetromapError(err._tag, `${err.message} ${kept}`, { cause: err, details });
}

/**
 * Switch the stored registration to another of its candidate models (the Correlate page's
 * similarity / affine / per-field switch): recomposes the transform and its overlay, un-accepts it.
 */
/** The record's quality with the confidence of `model` (its stored one when it has none: a registration stored before it). */
function withModelConfidence(rec: RegistrationRecord, model: RegistrationModel): RegistrationRecord['quality'] {
  if (!('confidence' in rec.quality) || !rec.quality.confidence) return rec.quality;
  const q: Registration['quality'] = rec.quality;
  return { ...q, confidence: confidenceForModel(q, rec.modelChoice, model) ?? q.confidence };
}

export async function useRegistrationModel(svc: Services, projectId: string, model: RegistrationModel, face: Face = 'top') {
  const rec = svc.repo.artifact(projectId, registrationKey(face));
  const cand = rec?.candidates?.[model];
  if (!rec || !cand) throw unprocessable(`This registration has no ${model} candidate: run ${model === 'fields' ? 'Refine per field (TIMA field layout or the field grid of the mosaic)' : 'Auto-register'} first.`);
  const slab = await currentSlab(svc, projectId, rec.volumeId, face);
  if (!slab) throw slabMissing();
  const map = await mineralMap(svc, rec.edsId);
  const store = await volumeStore(svc, rec.volumeId);
  const fields = model === 'fields' ? rec.candidates!.fields!.fields : undefined;
  const edsToVoxel = faceToVolume(composeAffine2to3(slab.slabToVoxel, cand.edsToSlab), face, store.meta.shape[0]);
  const previous = rec.modelChoice?.reason ? ` (automatic choice: ${rec.modelChoice.reason})` : '';
  const next: RegistrationRecord = {
    ...rec, edsToSlab: cand.edsToSlab, edsToVoxel, fields, residual: cand.residual, model, accepted: false, overlayChecked: undefined, createdAt: Date.now(),
    // the confidence of the model now shown (before: the automatically kept model's stayed, confirming or doubting another transform)
    quality: withModelConfidence(rec, model),
    modelChoice: rec.modelChoice && { ...rec.modelChoice, kept: model, reason: `${model}: chosen on the Correlate page${previous}` },
    truthError: truthError(svc, projectId, edsToVoxel, map, store.meta.shape, fields, face),
  };
  await storeRegistration(svc, projectId, next, edsOnSlabCodes(map, cand.edsToSlab, slab, fields), slab, face);
  return { model, truthError: next.truthError };
}

/**
 * What belonged to a deleted EDS map in its project: the registration of each face made with it
 * (with that face's overlay file, which petromap wrote beside it), its refusal mark, and the pick of
 * it as the project's map. Registrations of other maps, the slabs (the volume's) and the model stay.
 */
export async function forgetMap(svc: Services, projectId: string, edsId: string): Promise<void> {
  for (const face of ['top', 'bottom'] as const) {
    const key = registrationKey(face);
    if (svc.repo.artifact(projectId, key)?.edsId !== edsId) continue;
    svc.repo.deleteArtifact(projectId, key);
    await rm(overlayFile(svc, projectId, face), { force: true });
  }
  const refused = svc.repo.artifact(projectId, 'refusedMaps');
  if (refused?.[edsId]) {
    delete refused[edsId];
    svc.repo.setArtifact(projectId, 'refusedMaps', refused);
  }
  const picked = svc.repo.artifact(projectId, 'inputs');
  if (picked?.edsId === edsId) svc.repo.setArtifact(projectId, 'inputs', { ...picked, edsId: undefined });
}

/**
 * Accept the stored registration of a face. `createdAt` (ms): the registration the page showed; a
 * different one stored since (an Auto-register or a model switch finishing meanwhile) is refused, so
 * that "I checked the overlay" never confirms a registration the user has not seen.
 */
export function acceptRegistration(svc: Services, projectId: string, face: Face = 'top', checkedOverlay = false, createdAt?: number) {
  const rec = svc.repo.artifact(projectId, registrationKey(face));
  if (!rec) throw unprocessable(`There is no registration${face === 'bottom' ? ' of the bottom face' : ''} to accept yet: click landmark pairs or run Auto-register first.`);
  if (createdAt !== undefined && createdAt !== rec.createdAt) {
    throw unprocessable(`The registration${face === 'bottom' ? ' of the bottom face' : ''} changed since the page showed it (a new one was stored ${new Date(rec.createdAt).toISOString().replace('T', ' ').slice(0, 19)} UTC); nothing was accepted. Look at its overlay, then accept it.`);
  }
  if (checkedOverlay) rec.overlayChecked = true;
  const doubt = doubtfulUnchecked(rec, face);
  if (doubt) throw unprocessable(doubt);
  rec.accepted = true;
  svc.repo.setArtifact(projectId, registrationKey(face), rec);
  return rec;
}

/**
 * The top map's match, which a bottom map's automatic registration must reach a share of
 * (lib/pipeline/more-maps MIN_MATCH_OF_FIRST): its mutual information with the scan. Refused
 * before the job when the top face is not registered yet; undefined (not checked, as with
 * landmarks) when the top registration was fitted to landmarks only and has no image measure.
 */
function firstMapMatch(svc: Services, projectId: string, volumeId: string): { miAfter: number | undefined } {
  const top = svc.repo.artifact(projectId, 'registration');
  const { eds } = faceDatasets(svc, projectId, 'top');
  if (!top || !eds || top.volumeId !== volumeId || top.edsId !== eds.id) {
    throw unprocessable('Register the top face\'s EDS map first: the automatic registration of the bottom face\'s map is checked against the top map\'s match (a map of another sample, or of the wrong face, matches far worse). Or place the bottom map with landmarks.');
  }
  return { miAfter: top.quality.miAfter ?? undefined };
}

/** The stored slab as an 8-bit PNG (NaN outside the volume → black). */
export async function slabPng(svc: Services, projectId: string, face: Face = 'top'): Promise<Uint8Array> {
  const s = await readSlab(svc, projectId, face);
  if (!s) throw unprocessable('The surface has not been found yet: open the Correlate step and wait for the surface job.');
  const finite = s.data.filter((v) => v === v);
  const win = autoWindow(finite.length ? finite : new Float32Array([0, 1]));
  const data = s.data.map((v) => (v === v ? v : win[0]));
  return greyPng(data, s.width, s.height, win);
}

/** The stored EDS-on-slab overlay of the current registration as a PNG: phase colours or grain outlines. */
export async function edsOnSlabPng(svc: Services, projectId: string, mode: 'labels' | 'outlines', face: Face = 'top'): Promise<Uint8Array> {
  const rec = svc.repo.artifact(projectId, registrationKey(face));
  if (!rec) throw unprocessable('There is no registration yet.');
  const stale = () => unprocessable('The overlay of this registration is not stored: fit the landmarks or run Auto-register again.');
  if (!rec.overlay) throw stale();
  let buf: Buffer;
  try {
    buf = await readFile(overlayFile(svc, projectId, face));
  } catch {
    throw stale();
  }
  const { width, height, id } = rec.overlay;
  if (buf.byteLength !== 4 + width * height || buf.readUInt32LE(0) !== id) throw stale();
  const labels = buf.subarray(4);
  const ds = svc.repo.dataset(rec.edsId);
  if (!ds || ds.kind !== 'eds') throw unprocessable('The EDS map of this registration has been removed.');
  const legend = edsInfoOf(ds).legend;
  const rgba = new Uint8Array(width * height * 4);
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const i = v * width + u;
    const c = labels[i]!;
    if (mode === 'labels') {
      const col = c ? legend[c - 1]?.color : undefined;
      if (!col) continue;
      rgba.set([col[0], col[1], col[2], 255], i * 4);
    } else {
      const r = u + 1 < width ? labels[i + 1] : c;
      const d = v + 1 < height ? labels[i + width] : c;
      if (c && (r !== c || d !== c)) rgba.set([255, 221, 0, 255], i * 4);
    }
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}
