/**
 * One training set from EDS maps of several faces of the sample (issue 15 §1): the top face and
 * the bottom face (or more maps of either). Each face's labelled voxels are built into a training
 * set on the volume as that face sees it (lib/registration/face-view.ts: the bottom face is the
 * top face of the volume turned upside down), with that face's own mirrored surface, edge
 * correction and spatial split, so held-out tiles are drawn on EVERY face and validation stays
 * honest per face; the sets are then concatenated (feature rows are the same under the flip, so
 * one model learns from all), positions mapped back to the volume's voxel indices.
 *
 * The class cap (maxPerClass) applies per face: a second face adds labels of every class, most of
 * all of the rare ones that one face leaves below the cap (clay, pyrite).
 */
import { invalidInput } from '../errors';
import { faceView, faceZ, type Face } from '../registration/face-view';
import type { VolumeStore } from '../volume/store';
import type { LabelledVoxel, PartialVoxel } from './labelled-voxels';
import type { SurfacePlane } from './mirror';
import { concatRows } from './mlp';
import { buildTrainingSet, type BuildTrainingSetOptions, type ClassCount, type PartialRows, type TrainingSet } from './training-set';

/** The labelled voxels of one face, in the frame of the volume as that face sees it. */
export interface FaceVoxels {
  face: Face;
  labelled: LabelledVoxel[];
  partial: PartialVoxel[];
  /** the face's surface plane in its own frame (features are mirrored across it) */
  surface: SurfacePlane;
  /** what the labels are, for messages ("The EDS map bottom.png (bottom face)") */
  source: string;
}

function flipRows<R extends { positions: Int32Array }>(r: R, face: Face, nz: number): R {
  if (face === 'top') return r;
  const positions = r.positions.slice();
  for (let i = 0; i < positions.length; i += 3) positions[i] = faceZ(positions[i]!, face, nz);
  return { ...r, positions };
}

/** Soft-target rows of several sets, their targets re-indexed to `classes`. */
function concatPartial(parts: { rows: PartialRows; classes: number[] }[], classes: number[], nF: number): PartialRows | undefined {
  if (!parts.length) return undefined;
  const K = classes.length;
  const n = parts.reduce((a, p) => a + p.rows.n, 0);
  const x = new Float32Array(n * nF), positions = new Int32Array(3 * n), target = new Float32Array(n * K);
  let o = 0;
  for (const { rows, classes: own } of parts) {
    x.set(rows.x.subarray(0, rows.n * nF), o * nF);
    positions.set(rows.positions.subarray(0, 3 * rows.n), 3 * o);
    const to = own.map((c) => classes.indexOf(c));
    for (let i = 0; i < rows.n; i++) for (let k = 0; k < own.length; k++) target[(o + i) * K + to[k]!] = rows.target[i * own.length + k]!;
    o += rows.n;
  }
  return { x, n, positions, target };
}

/**
 * Concatenate training sets of several faces (same features). Positions of a bottom face's rows
 * are mapped to the volume's voxel indices; the mirror surface kept with the model is the first
 * top face's (prediction mirrors the volume above it), none when every map is of the bottom face.
 */
export function mergeFaceTrainingSets(parts: { ts: TrainingSet; face: Face }[], nz: number): TrainingSet {
  if (parts.length === 1 && parts[0]!.face === 'top') return parts[0]!.ts;
  const nF = parts[0]!.ts.nFeatures;
  const names = parts[0]!.ts.featureNames.join();
  if (parts.some((p) => p.ts.nFeatures !== nF || p.ts.featureNames.join() !== names)) throw invalidInput('The training sets of the faces were computed with different features.');
  const classes = [...new Set(parts.flatMap((p) => p.ts.classes))].sort((a, b) => a - b);
  const counts: ClassCount[] = [...new Set(parts.flatMap((p) => p.ts.counts.map((c) => c.class)))].sort((a, b) => a - b).map((c) => {
    const all = parts.map((p) => p.ts.counts.find((k) => k.class === c)).filter((k): k is ClassCount => !!k);
    return { class: c, available: all.reduce((a, k) => a + k.available, 0), train: all.reduce((a, k) => a + k.train, 0), heldOut: all.reduce((a, k) => a + k.heldOut, 0) };
  });
  const top = parts.find((p) => p.face === 'top');
  return {
    nFeatures: nF,
    featureNames: parts[0]!.ts.featureNames,
    classes,
    train: parts.map((p) => flipRows(p.ts.train, p.face, nz)).reduce((a, b) => concatRows(a, b, nF)),
    heldOut: parts.map((p) => flipRows(p.ts.heldOut, p.face, nz)).reduce((a, b) => concatRows(a, b, nF)),
    partial: concatPartial(parts.filter((p) => p.ts.partial).map((p) => ({ rows: flipRows(p.ts.partial!, p.face, nz), classes: p.ts.classes })), classes, nF),
    counts,
    featureSet: parts[0]!.ts.featureSet,
    mirrorSurface: top?.ts.mirrorSurface,
  };
}

/**
 * The training set of every face: buildTrainingSet on each face's view of `store` (its mirror
 * surface, its own spatial split: held-out tiles on each face), concatenated. The first face keeps
 * `seed`; face k uses seed + k.
 */
export async function buildFacesTrainingSet(
  store: VolumeStore,
  faces: FaceVoxels[],
  opts: Omit<BuildTrainingSetOptions, 'mirrorSurface' | 'partial' | 'source'>,
): Promise<TrainingSet> {
  const parts: { ts: TrainingSet; face: Face }[] = [];
  for (let k = 0; k < faces.length; k++) {
    const f = faces[k]!;
    const sub = opts.onProgress && ((p: number, m?: string) => opts.onProgress!((k + p) / faces.length, m && `${f.face} face: ${m}`));
    const ts = await buildTrainingSet(faceView(store, f.face), f.labelled, {
      ...opts, mirrorSurface: f.surface, partial: f.partial.length ? f.partial : undefined, source: f.source, seed: (opts.seed ?? 1) + k, onProgress: sub,
    });
    parts.push({ ts, face: f.face });
  }
  return mergeFaceTrainingSets(parts, store.meta.shape[0]);
}
