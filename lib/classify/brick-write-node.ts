/**
 * One brick of a whole-volume prediction, from stored inputs to stored outputs (Node): predictBrick
 * (predict-brick.ts: features of the box, mirrored above the surface when the model was trained
 * so, class probabilities, argmax, uncertainty), then the brick's chunks of the three output stores (labels, probabilities, uncertainty), then its `.done`
 * marker (temp name + rename). The same code runs in predictVolume's worker threads and in the
 * threads of a `petromap worker` taking bricks from BullMQ (lib/cluster), so a brick computed on
 * another machine is bit for bit the one computed in process.
 *
 * The brick must own whole chunks (chunkGrid of the outputs' chunk shape): every write passes
 * `wholeChunks: true`. Chunk writes are atomic (temp + rename) and the brick is a pure function of
 * its stored inputs, so running a brick again (a retry after a crash) rewrites the same bytes.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PetromapError, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Box3 } from '../volume/types';
import { brickReader } from '../volume/zarr/brick-reader-node';
import { openVolume } from '../volume/zarr-store-node';
import { markerName, type BrickOutputs } from './brick-predict';
import type { SurfacePlane } from './mirror';
import type { TrainedModel } from './model';
import { loadModel } from './model-io-node';
import { featureSource, predictBrick } from './predict-brick';

/** Absolute paths of one prediction run (what a brick needs besides its box). */
export interface PredictTargetSpec {
  storePath: string;
  modelDir: string;
  outDir: string;
  mirror: SurfacePlane | null;
  /**
   * The prediction run (predict.json's runId) this brick belongs to: the brick is written only while
   * the output folder holds that run, and its marker carries the id (only markers of the folder's
   * current run count). Absent: no check (callers outside a predictVolume run).
   */
  outRunId?: string;
}

export interface PredictTarget {
  spec: PredictTargetSpec;
  model: TrainedModel;
  /** the volume, mirrored above the surface when there is one */
  src: VolumeStore;
  outs: { labels: VolumeStore; probs: VolumeStore; unc: VolumeStore };
}

/** Input chunks a prediction thread keeps: two bricks of 64 x 128 x 128 with a 32-voxel halo in float32 */
const INPUT_CACHE_BYTES = 96 * 2 ** 20;

export async function openPredictTarget(spec: PredictTargetSpec): Promise<PredictTarget> {
  const model = await loadModel(spec.modelDir);
  // the input through a chunk cache: neighbouring bricks share their halo chunks (with the runs of
  // predict-node, half of a brick's input chunks were decoded for the brick before; read + decode
  // 170 -> 85 ns per voxel, measured on a 512^3 uint16 store). The brick reader returns its blocks
  // in buffers it reuses (valid until the thread's next read): a target reads one brick at a time,
  // as it reuses its output arrays below, and predictBrick consumes the block before the next.
  const raw = await openVolume(spec.storePath);
  const store = brickReader(raw, { maxBytes: INPUT_CACHE_BYTES });
  const src = featureSource(store, spec.mirror);
  const outs = {
    labels: await openVolume(join(spec.outDir, 'labels.ome.zarr')),
    probs: await openVolume(join(spec.outDir, 'probabilities.ome.zarr')),
    unc: await openVolume(join(spec.outDir, 'uncertainty.ome.zarr')),
  };
  return { spec, model, src, outs };
}

const brickMarkerPath = (outDir: string, box: Box3) => join(outDir, 'bricks', markerName(box));

/** The run id a marker file's text names (undefined: unreadable, or a marker written before run ids). */
export function markerRunId(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { runId?: unknown }).runId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** True when the brick's `.done` marker exists and was written by run `runId` (its chunks are all written). */
export const brickIsDone = (outDir: string, box: Box3, runId: string) =>
  readFile(brickMarkerPath(outDir, box), 'utf8').then((t) => markerRunId(t) === runId, () => false);

/** The run id in `<outDir>/predict.json` (undefined: no readable manifest or none recorded). */
export async function currentRunId(outDir: string): Promise<string | undefined> {
  const text = await readFile(join(outDir, 'predict.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : markerRunId(text);
}

/** Text of the refusal of a brick whose run no longer owns the output folder (matched by isStaleRunError). */
const STALE_RUN = 'no longer holds the prediction run this brick belongs to';

/**
 * Refuses a brick of run `runId` when `outDir` holds another run (or none): a prediction abandoned
 * (a server killed mid-run, a folder deleted and started again with another model or scan) leaves
 * bricks queued that must not land in the new run's stores.
 */
export async function checkRunOwnsFolder(outDir: string, runId: string, box: Box3): Promise<void> {
  const now = await currentRunId(outDir);
  if (now !== runId) {
    throw new PetromapError(
      'Conflict',
      `The output folder ${outDir} ${STALE_RUN} (run ${runId}; the folder's predict.json names ${now ? `run ${now}` : 'no run'}): ` +
        `brick ${markerName(box).replace(/\.done$/, '')} of that abandoned run was not written. Nothing to do: the folder's own run computes its bricks.`,
    );
  }
}

export const isStaleRunError = (err: unknown) => err instanceof Error && err.message.includes(STALE_RUN);

export interface BrickWriteResult {
  ms: number;
  voxels: number;
}

/** Output arrays of the last brick of each target, reused by the next brick of the same size. */
const reusable = new WeakMap<PredictTarget, BrickOutputs>();

/** Predicts `box` and writes its chunks, then its marker. `extra` goes into the marker file. */
export async function predictBrickToStores(t: PredictTarget, box: Box3, opts: StageOptions & { extra?: Record<string, unknown> } = {}): Promise<BrickWriteResult> {
  const t0 = Date.now();
  const { model, src, outs, spec } = t;
  const n = box.shape[0] * box.shape[1] * box.shape[2];
  // the arrays are written (copied into chunks) before this returns, so the next brick may reuse them
  const o = await predictBrick(model, src, box, spec.mirror, { signal: opts.signal, into: reusable.get(t) });
  reusable.set(t, o);
  // the folder may have been given to another run while this brick was computed: checked before its
  // chunks and again before its marker (what is left is the window of a few milliseconds between a
  // check and the writes)
  if (spec.outRunId) await checkRunOwnsFolder(spec.outDir, spec.outRunId, box);
  await outs.labels.writeBlock(box, o.labels, { wholeChunks: true });
  for (let k = 0; k < o.probabilities.length; k++) await outs.probs.writeBlock(box, o.probabilities[k]!, { channel: k, wholeChunks: true });
  await outs.unc.writeBlock(box, o.uncertainty, { wholeChunks: true });
  if (spec.outRunId) await checkRunOwnsFolder(spec.outDir, spec.outRunId, box);
  const marker = brickMarkerPath(spec.outDir, box);
  const tmp = `${marker}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, JSON.stringify({ box, ms: Date.now() - t0, ...opts.extra, ...(spec.outRunId ? { runId: spec.outRunId } : {}) }));
  await rename(tmp, marker);
  return { ms: Date.now() - t0, voxels: n };
}
