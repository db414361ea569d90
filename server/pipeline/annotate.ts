/**
 * The painting (lithology) workflow of a project: the class list the user edits, the painted
 * annotation volume (uint8 class codes at level 0, chunked like the scan; 0 = unlabelled) read
 * and written one orthogonal slice at a time, stroke counts per class, training and prediction
 * from the strokes (same engine as the Train step: lib/classify). The jobs that pass over the
 * whole painted or predicted volume (erasing a deleted class, scan-location proposals) are in
 * annotate-jobs.ts; while a class is being erased, painting is refused (erasingClass).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput, notFound, PetromapError, unprocessable } from '@/lib/errors';
import { KEEP_VOXEL, mergeKept } from '@/lib/volume/slice-edit';
import type { VolumeStore } from '@/lib/volume/store';
import type { Box3, Shape3 } from '@/lib/volume/types';
import { createVolume, DEFAULT_CHUNK, ZarrVolumeStore } from '@/lib/volume/zarr-store-node';
import type { JobRecord } from '../db/repo';
import { runTask } from '../jobs/run-task';
import type { Services } from '../services';
import { forgetStore, storeAt, swapInWorkFolder, volumeStore } from '../storage/open-stores';
import type { Axis } from '../render/slice';
import { projectClasses, projectDatasets, type ClassDef } from './project-inputs';

export type { ClassDef };

/** Artifact 'annotations': where the painted volume of the project's current scan lives. */
export interface AnnotationsRecord {
  volumeId: string;
  relPath: string;
  shape: Shape3;
  /** painted voxels per class code */
  counts: Record<string, number>;
  updatedAt: number;
}

/** Artifact 'lithologyPrediction': the map predicted from the strokes. */
export interface PredictionRecord {
  volumeId: string;
  relPath: string;
  jobId: string;
  classes: ClassDef[];
  strokeCounts: Record<string, number>;
  heldOutAccuracy: number | null;
  perClass: { code: number; f1: number; support: number }[];
  fractions: Record<string, number>;
  createdAt: number;
}

export const LITHOLOGY_SUGGESTIONS: Omit<ClassDef, 'code'>[] = [
  { name: 'high porosity', color: [66, 135, 245] },
  { name: 'low porosity', color: [230, 159, 0] },
  { name: 'fracture', color: [213, 36, 94] },
];

// ---------------------------------------------------------------- classes

/** The project's classes: what the user saved; a lithology project starts with none. */
export function annotationClasses(svc: Services, projectId: string): ClassDef[] {
  const p = svc.repo.project(projectId);
  if (!p) throw notFound(`There is no project ${projectId}.`);
  const saved = svc.repo.artifact(projectId, 'classes');
  if (saved) return saved;
  return p.kind === 'lithology' ? [] : projectClasses(svc, projectId);
}

const hex = (c: [number, number, number]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

function checkClass(c: { name: string; color: [number, number, number] }, others: ClassDef[]) {
  const name = c.name.trim();
  if (!name) throw invalidInput('A class needs a name (for example "high porosity").');
  if (name.length > 60) throw invalidInput(`The class name "${name.slice(0, 60)}…" is too long (60 characters at most).`);
  if (!c.color.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) throw invalidInput(`The colour of class "${name}" must be three values 0–255.`);
  const dupName = others.find((o) => o.name.toLowerCase() === name.toLowerCase());
  if (dupName) throw invalidInput(`There is already a class called "${dupName.name}" (code ${dupName.code}).`);
  const dupColour = others.find((o) => o.color.every((v, i) => v === c.color[i]));
  if (dupColour) throw invalidInput(`Class "${dupColour.name}" already has the colour ${hex(dupColour.color)}; pick another so the maps stay readable.`);
  return name;
}

export function addClass(svc: Services, projectId: string, c: { name: string; color: [number, number, number] }): ClassDef {
  const cur = annotationClasses(svc, projectId);
  if (cur.length >= 254) throw invalidInput('A project can have at most 254 classes.');
  const name = checkClass(c, cur);
  const used = new Set(cur.map((x) => x.code));
  let code = 1;
  while (used.has(code)) code++;
  const def: ClassDef = { code, name, color: [...c.color] as [number, number, number] };
  svc.repo.setArtifact(projectId, 'classes', [...cur, def].sort((a, b) => a.code - b.code));
  return def;
}

export function updateClass(svc: Services, projectId: string, code: number, patch: { name?: string; color?: [number, number, number] }): ClassDef {
  const cur = annotationClasses(svc, projectId);
  const old = cur.find((c) => c.code === code);
  if (!old) throw notFound(`There is no class with code ${code} in this project.`);
  const next = { name: patch.name ?? old.name, color: patch.color ?? old.color };
  const name = checkClass(next, cur.filter((c) => c.code !== code));
  const def: ClassDef = { code, name, color: [...next.color] as [number, number, number] };
  svc.repo.setArtifact(projectId, 'classes', cur.map((c) => (c.code === code ? def : c)));
  return def;
}

// ---------------------------------------------------------------- annotation volume

const locks = new Map<string, Promise<unknown>>();
/** per project: how many callers hold or wait for its lock */
const lockUsers = new Map<string, number>();

/** Serialise the writes of one project (read-modify-write of slices and counts; the erase job). */
export function withProjectLock<T>(projectId: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(projectId) ?? Promise.resolve();
  lockUsers.set(projectId, (lockUsers.get(projectId) ?? 0) + 1);
  const run = async () => {
    try {
      return await fn();
    } finally {
      const n = (lockUsers.get(projectId) ?? 1) - 1;
      if (n > 0) lockUsers.set(projectId, n);
      else lockUsers.delete(projectId);
    }
  };
  const next = prev.then(run, run);
  locks.set(projectId, next.catch(() => undefined));
  return next;
}

/** How many callers hold or wait for the project's lock now (0: free). */
export const projectLockUsers = (projectId: string): number => lockUsers.get(projectId) ?? 0;

/** `fn` under the project's lock if nobody holds or waits for it now; undefined (fn not run) when it is busy. */
export function tryProjectLock<T>(projectId: string, fn: () => Promise<T>): Promise<T> | undefined {
  return projectLockUsers(projectId) ? undefined : withProjectLock(projectId, fn);
}

function projectVolume(svc: Services, projectId: string) {
  const { volume } = projectDatasets(svc, projectId);
  if (!volume) throw unprocessable('This project has no XRM volume yet: add one on the Data step before painting.');
  return volume;
}

/** The record of the current volume's annotations, if any were painted. */
export function currentRecord(svc: Services, projectId: string): AnnotationsRecord | undefined {
  const { volume } = projectDatasets(svc, projectId);
  const rec = svc.repo.artifact(projectId, 'annotations');
  if (!rec || !volume || rec.volumeId !== volume.id) return undefined;
  if (!existsSync(svc.ws.abs(rec.relPath))) return undefined;
  return rec;
}

export function saveRecord(svc: Services, projectId: string, rec: AnnotationsRecord) {
  rec.updatedAt = Date.now();
  svc.repo.setArtifact(projectId, 'annotations', rec);
}

/** The class whose strokes a job is erasing now (deleteClass in annotate-jobs.ts), if any. */
export function erasingClass(svc: Services, projectId: string): { jobId: string; code: number; name: string; progress: number; message: string | null } | undefined {
  const e = svc.repo.artifact(projectId, 'eraseClassJob');
  if (!e || !svc.jobs.isActive(e.jobId)) return undefined;
  const j = svc.repo.job(e.jobId);
  return { ...e, progress: j?.progress ?? 0, message: j?.message ?? null };
}

/** Conflict while a class is being erased: `what` (e.g. "Painting") waits until it is done. */
export function refuseWhileErasing(svc: Services, projectId: string, what: string) {
  const e = erasingClass(svc, projectId);
  if (e) {
    throw new PetromapError('Conflict', `Class "${e.name}" is being erased from the painted volume (${Math.round(e.progress * 100)} % done): ${what} is possible again when it has finished.`);
  }
}

async function openOrCreateAnnotations(svc: Services, projectId: string): Promise<{ store: VolumeStore; rec: AnnotationsRecord }> {
  const rec = currentRecord(svc, projectId);
  if (rec) return { store: await storeAt(svc, rec.relPath), rec };
  const volume = projectVolume(svc, projectId);
  const scan = await volumeStore(svc, volume.id);
  const rel = path.join('projects', projectId, `annotations-${volume.id}.ome.zarr`);
  forgetStore(rel);
  await rm(svc.ws.abs(rel), { recursive: true, force: true });
  const chunk = scan instanceof ZarrVolumeStore ? scan.chunk : DEFAULT_CHUNK;
  await createVolume(svc.ws.abs(rel), { ...scan.meta, dtype: 'uint8', channels: ['annotations'] }, { chunk, levels: 1, compression: 'zstd', spacingAssumed: scan.spacingAssumed });
  const fresh: AnnotationsRecord = { volumeId: volume.id, relPath: rel, shape: [...scan.meta.shape], counts: {}, updatedAt: Date.now() };
  saveRecord(svc, projectId, fresh);
  return { store: await storeAt(svc, rel), rec: fresh };
}

export interface SliceGeometry {
  box: Box3;
  width: number;
  height: number;
}

/** The box of one level-0 slice and its image size (columns/rows as the slice route renders). */
export function sliceGeometry(shape: Shape3, axis: Axis, index: number): SliceGeometry {
  const [nz, ny, nx] = shape;
  const n = axis === 'z' ? nz : axis === 'y' ? ny : nx;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw invalidInput(`Slice ${index} is outside the volume (0–${n - 1} along ${axis}).`);
  }
  if (axis === 'z') return { box: { start: [index, 0, 0], shape: [1, ny, nx] }, width: nx, height: ny };
  if (axis === 'y') return { box: { start: [0, index, 0], shape: [nz, 1, nx] }, width: nx, height: nz };
  return { box: { start: [0, 0, index], shape: [nz, ny, 1] }, width: ny, height: nz };
}

/** One painted slice at level 0 (all zeros when nothing was painted yet). */
export async function readAnnotationSlice(svc: Services, projectId: string, axis: Axis, index: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const volume = projectVolume(svc, projectId);
  const scan = await volumeStore(svc, volume.id);
  const g = sliceGeometry(scan.meta.shape, axis, index);
  const rec = currentRecord(svc, projectId);
  if (!rec) return { data: new Uint8Array(g.width * g.height), width: g.width, height: g.height };
  const store = await storeAt(svc, rec.relPath);
  return { data: (await store.readBlock(g.box)) as Uint8Array, width: g.width, height: g.height };
}

/**
 * Replace one painted slice. The body is checked completely (size, class codes) before anything
 * is written; the store writes each chunk atomically. Returns the new stroke counts.
 */
export async function writeAnnotationSlice(svc: Services, projectId: string, axis: Axis, index: number, body: Uint8Array): Promise<{ counts: Record<string, number>; changed: number }> {
  const volume = projectVolume(svc, projectId);
  const scan = await volumeStore(svc, volume.id);
  const g = sliceGeometry(scan.meta.shape, axis, index);
  const what = `Painted slice ${axis} = ${index} of "${volume.name}"`;
  if (body.length !== g.width * g.height) {
    throw invalidInput(`${what}: expected ${g.width} × ${g.height} = ${g.width * g.height} bytes (one class code per voxel), got ${body.length}. Reload the page: the volume may have changed.`);
  }
  refuseWhileErasing(svc, projectId, 'painting');
  checkCodes(body, annotationClasses(svc, projectId), g.width, what);
  return withProjectLock(projectId, async () => {
    // again under the lock: a class may have been deleted (or its erasing started) while this write waited
    refuseWhileErasing(svc, projectId, 'painting');
    checkCodes(body, annotationClasses(svc, projectId), g.width, what);
    const { store, rec } = await openOrCreateAnnotations(svc, projectId);
    const old = (await store.readBlock(g.box)) as Uint8Array;
    // KEEP_VOXEL voxels stay as stored (lib/volume/slice-edit.ts: the page sends only what its edit changed)
    const { merged, changed, delta } = mergeKept(old, body);
    if (changed) {
      // single writer (project lock): the slice's partly covered chunks are read-modify-written
      await store.writeBlock(g.box, merged);
      for (let c = 1; c < 256; c++) {
        if (!delta[c]) continue;
        const v = (rec.counts[c] ?? 0) + delta[c]!;
        if (v > 0) rec.counts[c] = v;
        else delete rec.counts[c];
      }
      saveRecord(svc, projectId, rec);
    }
    return { counts: { ...rec.counts }, changed };
  });
}

/** Every code of a painted slice is 0, KEEP_VOXEL or one of the project's classes (else nothing is saved). */
function checkCodes(body: Uint8Array, classes: ClassDef[], width: number, what: string) {
  const allowed = new Uint8Array(256);
  allowed[0] = 1;
  allowed[KEEP_VOXEL] = 1;
  for (const c of classes) allowed[c.code] = 1;
  for (let i = 0; i < body.length; i++) {
    if (!allowed[body[i]!]) {
      const u = i % width, v = Math.floor(i / width);
      throw invalidInput(`${what}: class code ${body[i]} at column ${u}, row ${v} is not one of this project's classes (${classes.length ? classes.map((c) => `${c.code} ${c.name}`).join(', ') : 'none defined yet'}). Nothing was saved.`);
    }
  }
}

/** Forget every stroke of the current volume. */
export async function clearAnnotations(svc: Services, projectId: string): Promise<void> {
  refuseWhileErasing(svc, projectId, 'clearing the strokes');
  await withProjectLock(projectId, async () => {
    const rec = currentRecord(svc, projectId);
    if (!rec) return;
    forgetStore(rec.relPath);
    svc.repo.deleteArtifact(projectId, 'annotations');
    await rm(svc.ws.abs(rec.relPath), { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------- state

export function predictionRecord(svc: Services, projectId: string): PredictionRecord | undefined {
  const { volume } = projectDatasets(svc, projectId);
  const rec = svc.repo.artifact(projectId, 'lithologyPrediction');
  if (!rec || !volume || rec.volumeId !== volume.id || !existsSync(svc.ws.abs(rec.relPath))) return undefined;
  return rec;
}

export async function annotationState(svc: Services, projectId: string) {
  const project = svc.repo.project(projectId);
  if (!project) throw notFound(`There is no project ${projectId}.`);
  const { volume, eds } = projectDatasets(svc, projectId);
  const scan = volume ? await volumeStore(svc, volume.id) : undefined;
  const classes = annotationClasses(svc, projectId);
  const rec = currentRecord(svc, projectId);
  const pred = predictionRecord(svc, projectId);
  const erasing = erasingClass(svc, projectId);
  // the field of view of the latest scan proposals (stored or being computed), to show them again
  const lastProposals = svc.repo.artifact(projectId, 'scanProposalsJob') ?? svc.repo.artifact(projectId, 'scanProposals');
  return {
    project: { id: project.id, name: project.name, kind: project.kind },
    volume: volume && scan
      ? {
          id: volume.id, name: volume.name, shape: scan.meta.shape, spacingUm: scan.meta.spacingUm, originUm: scan.meta.originUm,
          dtype: scan.meta.dtype, channels: scan.meta.channels,
          levelShapes: Array.from({ length: scan.levels }, (_, k) => scan.levelShape(k)),
        }
      : null,
    hasEds: !!eds,
    classes,
    suggestions: LITHOLOGY_SUGGESTIONS.filter((s) => !classes.some((c) => c.name.toLowerCase() === s.name)),
    strokes: classes.map((c) => ({ code: c.code, voxels: rec?.counts[c.code] ?? 0 })),
    updatedAt: rec ? new Date(rec.updatedAt) : null,
    prediction: pred
      ? { jobId: pred.jobId, classes: pred.classes, heldOutAccuracy: pred.heldOutAccuracy, perClass: pred.perClass, fractions: pred.fractions, createdAt: new Date(pred.createdAt), stale: !sameCounts(pred.strokeCounts, rec?.counts ?? {}) }
      : null,
    /** a deleted class whose strokes a job is erasing: painting waits until it has finished */
    erasing: erasing ? { jobId: erasing.jobId, code: erasing.code, name: erasing.name, progress: erasing.progress, message: erasing.message } : null,
    proposalsFovUm: lastProposals ? lastProposals.fovUm : null,
  };
}

function sameCounts(a: Record<string, number>, b: Record<string, number>) {
  const ka = Object.keys(a).filter((k) => a[k]), kb = Object.keys(b).filter((k) => b[k]);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

// ---------------------------------------------------------------- train + predict from strokes

/** Job: train on the project's strokes, predict the whole volume, store the lithology map. */
export function startTrainFromStrokes(svc: Services, projectId: string, opts: { epochs?: number } = {}): JobRecord {
  const volume = projectVolume(svc, projectId);
  refuseWhileErasing(svc, projectId, 'training');
  const rec = currentRecord(svc, projectId);
  const classes = annotationClasses(svc, projectId);
  const painted = classes.filter((c) => (rec?.counts[c.code] ?? 0) > 0);
  if (painted.length < 2) {
    throw unprocessable(`Paint strokes of at least two classes before training (painted so far: ${painted.length ? painted.map((c) => c.name).join(', ') : 'nothing'}).`);
  }
  const strokeCounts = { ...rec!.counts };
  return svc.jobs.start('annotate-train', projectId, { volumeId: volume.id, epochs: opts.epochs }, async ({ signal, onProgress, jobId }) => {
    const finalRel = path.join('projects', projectId, `lithology-${volume.id}`);
    const workRel = `${finalRel}.tmp-${jobId}`;
    try {
      // in a worker thread (server/jobs/tasks.ts): lib/ loads unbundled, the server stays responsive
      const r = await runTask(
        'lithologyTrainPredict',
        {
          scanPath: svc.ws.abs(volume.relPath), strokesPath: svc.ws.abs(rec!.relPath), workDir: svc.ws.abs(workRel), epochs: opts.epochs,
          classNames: classes.map((c) => c.name), classCodes: classes.map((c) => c.code),
        },
        { signal, onProgress },
      );
      // swap in the new map: readers see the old one or the new one
      const labelsRel = await swapInWorkFolder(svc, workRel, finalRel, jobId, r.labelsPath);
      const pr: PredictionRecord = {
        volumeId: volume.id, relPath: labelsRel, jobId, classes: annotationClasses(svc, projectId), strokeCounts,
        heldOutAccuracy: r.heldOutAccuracy, perClass: r.perClass, fractions: r.fractions, createdAt: Date.now(),
      };
      svc.repo.setArtifact(projectId, 'lithologyPrediction', pr);
      return { heldOutAccuracy: r.heldOutAccuracy, strokeVoxels: r.strokeVoxels, fractions: r.fractions };
    } finally {
      await rm(svc.ws.abs(workRel), { recursive: true, force: true });
    }
  });
}

/** One slice of the predicted lithology map (level 0, raw codes). */
export async function readPredictionSlice(svc: Services, projectId: string, axis: Axis, index: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const pred = predictionRecord(svc, projectId);
  if (!pred) throw notFound('There is no predicted lithology map yet: paint strokes of two or more classes and press "Train and predict".');
  const store = await storeAt(svc, pred.relPath);
  const g = sliceGeometry(store.meta.shape, axis, index);
  return { data: (await store.readBlock(g.box)) as Uint8Array, width: g.width, height: g.height };
}
