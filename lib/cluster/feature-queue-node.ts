/**
 * Coordinator side of distributed feature computation for large training sets (docs/scale-out.md,
 * "Training features"). buildTrainingSet groups the labelled voxels into boxes as in process
 * (brickGroups); here every box becomes one child of a BullMQ flow (kind 'features', the queue and
 * the version check of the prediction bricks: runFlowOnQueue), and the data travel through the
 * shared workspace, never through Redis:
 *   1. a run folder <workspace>/.petromap-cluster/features-<runId>/ with run.json (feature set,
 *      mirror surface and options) and voxels-<i>.i32 (the voxels of box i);
 *   2. a `petromap worker` thread computes box i (computeFeatureBrick) and writes rows-<i>.f32 and
 *      rows-<i>.json (temp names + rename);
 *   3. the rows are read back in box order into the same matrix gatherFeatures fills; the folder
 *      is removed afterwards (also on failure or cancel).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MirrorOptions, SurfacePlane } from '../classify/mirror';
import { PetromapError, throwIfAborted, type StageOptions } from '../errors';
import type { FeatureSet } from '../features/types';
import type { Box3 } from '../volume/types';
import { runFlowOnQueue } from './brick-queue-node';
import { IDENTITY, boxKey, relativeToWorkspace, type ClusterTarget, type FeatureJobData } from './config';
import { bytesOf, featureBrickIsDone, featureRunFiles, readTyped, writeAtomic, type FeatureRowsHeader, type FeatureRunFile } from './feature-brick-node';

/** Where feature runs keep their files, under the workspace root. */
export const FEATURE_RUNS_DIR = '.petromap-cluster';

export interface FeatureQueueRequest extends ClusterTarget {
  /** the zarr store the features are computed on (inside the workspace) */
  storePath: string;
  featureSet: FeatureSet;
  mirror: SurfacePlane | null;
  mirrorOptions?: MirrorOptions;
  /** all voxels, in row order */
  voxels: { z: number; y: number; x: number }[];
  /** boxes and the indices (into voxels) of their voxels: brickGroups of lib/classify/training-set */
  groups: { box: Box3; idx: number[] }[];
}

export interface FeatureQueueResult {
  rows: Float32Array;
  nFeatures: number;
  names: string[];
  runId: string;
  seconds: number;
}

export async function gatherFeaturesOnQueue(req: FeatureQueueRequest, opts: StageOptions = {}): Promise<FeatureQueueResult> {
  const t0 = Date.now();
  const { signal, onProgress } = opts;
  throwIfAborted(signal);
  const storeRel = relativeToWorkspace(req.workspace, req.storePath, 'volume');
  const runId = randomUUID();
  const runDir = join(req.workspace, FEATURE_RUNS_DIR, `features-${runId}`);
  const runRel = relativeToWorkspace(req.workspace, runDir, 'feature run folder');
  const total = req.groups.length;
  try {
    await mkdir(runDir, { recursive: true });
    await writeAtomic(join(runDir, 'run.json'), JSON.stringify({ featureSet: req.featureSet, mirror: req.mirror, mirrorOptions: req.mirrorOptions } satisfies FeatureRunFile));
    for (let i = 0; i < total; i++) {
      const idx = req.groups[i]!.idx;
      const a = new Int32Array(3 * idx.length);
      idx.forEach((j, k) => {
        const v = req.voxels[j]!;
        a[3 * k] = v.z; a[3 * k + 1] = v.y; a[3 * k + 2] = v.x;
      });
      await writeAtomic(featureRunFiles(runDir, i).voxels, bytesOf(a));
    }
    onProgress?.(0, `features of ${total} bricks queued for the workers`);
    await runFlowOnQueue({
      target: req,
      runId,
      name: 'features',
      parentData: { runDir: runRel },
      todo: req.groups.map((g) => g.box),
      childData: (id, box, index) => ({ kind: 'features', runId: id, identity: IDENTITY, storePath: storeRel, runDir: runRel, index, box }) satisfies FeatureJobData,
      childKey: (_box, index) => `f${index}`,
      isDone: (_box, index) => featureBrickIsDone(runDir, index),
      where: (child) => {
        const c = child as FeatureJobData | undefined;
        return c?.box ? `The features of brick ${boxKey(c.box)} (z_y_x start) of ${req.storePath}` : `A feature brick of ${req.storePath}`;
      },
      cancelled: 'The feature computation was cancelled.',
    }, {
      signal,
      onBricks: (done, n) => onProgress?.(0.95 * (done / n), `features of brick ${done}/${n} (workers)`),
      onStatus: (m) => onProgress?.(0, m),
    });
    // the rows, in box order, into the matrix gatherFeatures fills
    let rows: Float32Array | null = null, nF = 0, names: string[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(signal);
      const f = featureRunFiles(runDir, i);
      const h = JSON.parse(await readFile(f.header, 'utf8')) as FeatureRowsHeader;
      const data = await readTyped(f.rows, Float32Array);
      const idx = req.groups[i]!.idx;
      if (h.n !== idx.length || data.length !== idx.length * h.nFeatures || (rows && h.nFeatures !== nF)) {
        throw new PetromapError('Unprocessable', `The feature rows of brick ${boxKey(req.groups[i]!.box)} in ${runDir} do not match its ${idx.length} voxels (${h.n} rows of ${h.nFeatures} features, ${data.length} values): a worker of another version?`);
      }
      if (!rows) {
        nF = h.nFeatures;
        names = h.names;
        rows = new Float32Array(req.voxels.length * nF);
      }
      idx.forEach((j, k) => rows!.set(data.subarray(k * nF, (k + 1) * nF), j * nF));
    }
    onProgress?.(1, `features of ${total} bricks read back`);
    return { rows: rows ?? new Float32Array(0), nFeatures: nF, names, runId, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await rm(runDir, { recursive: true, force: true }).catch(() => {});
  }
}
