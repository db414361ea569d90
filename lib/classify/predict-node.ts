/**
 * Blockwise, resumable, cancellable prediction of a whole volume (Node: worker threads).
 *
 * Bricks are the chunk grid of the outputs (chunkGrid: brick = output chunk, smaller only at the
 * volume's edge), so every brick owns whole chunks and the worker threads (each with its own
 * TF.js wasm engine and its own store instances) never write the same chunk: the workers write
 * with `wholeChunks: true`, which makes a misaligned parallel write throw instead of silently
 * losing another thread's voxels. Outputs in `outDir`:
 *   labels.ome.zarr         uint8 class codes (0 = no label / above the surface)
 *   probabilities.ome.zarr  uint8 0..255, one channel per class
 *   uncertainty.ome.zarr    uint8 255 * (1 - (p1 - p2))
 *   bricks/<z>_<y>_<x>.done written after a brick's chunks (with the run id); a restart skips this run's
 *   predict.json            what was predicted with what (a restart with another model is refused),
 *                           the run's id and the input store's identity (a scan replaced at its path starts afresh)
 * Each run has an id (predict.json `runId`): every brick job carries it, a brick is written only
 * while the folder holds its run (an abandoned run's bricks are refused) and only markers naming
 * the run count. A finished prediction's stores are marked complete (a missing chunk is refused).
 * When every brick is done a verification pass reads the labels back, brick by brick, and fails
 * (Unprocessable) if any voxel inside the sample (below the mirror surface, or anywhere without
 * one) has no label, whatever the cause; the bricks with holes lose their `.done` marker so a
 * restart redoes them. Only then are the pyramids built (labels by majority: the store is created
 * with downsample 'mode'), by this thread alone.
 */
import { availableParallelism } from 'node:os';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clusterFromEnv, type ClusterTarget } from '../cluster/config';
import { PetromapError, throwIfAborted, type StageOptions } from '../errors';
import { chunkGrid } from '../features';
import { startTsWorker } from '../parallel/ts-worker-node';
import type { Box3, Shape3, VolumeMeta } from '../volume/types';
import { buildPyramidsInThreads } from '../parallel/pyramids-node';
import { removeStaleTemps } from '../volume/zarr/atomic-file-system-store-node';
import { createVolume, openVolume, type ZarrVolumeStore } from '../volume/zarr-store-node';
import { DEFAULT_PREDICT_BRICK, boxAboveSurface, countUnlabelled, markerName } from './brick-predict';
import type { SurfacePlane } from './mirror';
import { markerRunId } from './brick-write-node';
import { checkTrainedOn, MODEL_FORMAT, readTrainedOn, type ModelFile } from './model-io-node';
import type { PredictInit, PredictReply } from './predict.worker';

export interface PredictOptions extends StageOptions {
  /** worker threads (default: available cores, at most 4) */
  threads?: number;
  /** output chunk shape = brick of the chunk grid (default DEFAULT_PREDICT_BRICK, [64, 128, 128]) */
  brick?: Shape3;
  /** mirror the volume above this surface (default: the surface the model was trained with) */
  mirrorSurface?: SurfacePlane | null;
  /** build the output pyramids at the end (default true) */
  pyramids?: boolean;
  /**
   * Distributed mode (docs/scale-out.md): the bricks go to BullMQ on Redis as one flow and
   * `petromap worker` processes compute them (lib/cluster); verification and pyramids stay here.
   * Default: from PETROMAP_REDIS_URL (workspace PETROMAP_DATA); null: in process whatever the env.
   */
  cluster?: ClusterTarget | null;
  /** the volume's name in messages (default: its path) */
  volumeName?: string;
}

export interface PredictResult {
  bricksDone: number;
  bricksSkipped: number;
  bricksTotal: number;
  labelsPath: string;
  probabilitiesPath: string;
  uncertaintyPath: string;
  classes: number[];
  seconds: number;
  /** voxels inside the sample (below the mirror surface, or all) verified to hold a label */
  verifiedVoxels: number;
  /** unlabelled voxels found inside the sample by the verification pass (0: otherwise it throws) */
  unlabelledVoxels: number;
  /** this prediction run's id (predict.json) */
  runId: string;
  /** why the output folder's earlier prediction was not resumed but started afresh (its scan was replaced, ...); absent otherwise */
  restarted?: string;
}

interface RunManifest {
  /** this prediction run (a new one whenever the folder starts afresh); bricks of another run are refused and their markers do not count */
  runId?: string;
  /** identity of the input store (inputIdentity): a scan replaced at the same path starts the prediction afresh */
  input?: string;
  volume: string;
  shape: Shape3;
  modelSavedAt: string;
  classes: number[];
  brick: Shape3;
  mirror: SurfacePlane | null;
  /** 'chunks': chunk-aligned bricks (chunkGrid); absent in runs made with the old balanced grid */
  grid?: 'chunks';
}

async function readModelFile(modelDir: string): Promise<ModelFile> {
  let file: ModelFile;
  try {
    file = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8'));
  } catch (err) {
    throw new PetromapError('NotFound', `No trained classifier in ${modelDir} (model.json missing or unreadable). Train a model first.`, { cause: err });
  }
  if (file.format !== MODEL_FORMAT) throw new PetromapError('InvalidInput', `${modelDir}/model.json is not a petromap voxel classifier.`);
  if (!file.featureSet) throw new PetromapError('Unprocessable', `The classifier in ${modelDir} does not record its feature set, so the volume cannot be predicted with the same features. Retrain it with a feature set.`);
  file.trainedOn = readTrainedOn(file.trainedOn, `${modelDir}/model.json`);
  return file;
}

async function openOrCreate(path: string, meta: VolumeMeta, brick: Shape3, downsample: 'mean' | 'mode', fresh: boolean, spacingAssumed = false): Promise<ZarrVolumeStore> {
  // this run started before but finished nothing: a store it left half-created is made again
  if (fresh) await rm(path, { recursive: true, force: true });
  try {
    const s = await openVolume(path);
    const same = s.meta.shape.every((v, a) => v === meta.shape[a]) && s.chunk.every((v, a) => v === brick[a]) && s.meta.channels.length === meta.channels.length;
    if (!same) throw new PetromapError('Conflict', `${path} holds a different prediction (size, brick or classes differ); delete it or choose another output folder.`);
    return s;
  } catch (err) {
    if (err instanceof PetromapError && err._tag !== 'NotFound') throw err;
    return createVolume(path, meta, { chunk: brick, downsample, spacingAssumed });
  }
}

/**
 * Which store the input is: the id createVolume gives every new store (an import, a re-import at the
 * same path gets another), or for a store written before ids its zarr.json's inode and time.
 */
export async function inputIdentity(store: ZarrVolumeStore): Promise<string> {
  if (store.storeId) return `store ${store.storeId}`;
  const st = await stat(join(/*turbopackIgnore: true*/ store.path, 'zarr.json'));
  return `zarr.json ${st.dev}:${st.ino}:${Math.round(st.mtimeMs)}`;
}

/** The settings of a run (what must match to resume it): the manifest without its run and input ids. */
const settingsOf = (m: RunManifest) => JSON.stringify({ ...m, runId: undefined, input: undefined });

/** The markers in `bricks/` written by run `runId` (markers of other runs, or of no run, do not count). */
async function markersOf(bricksDir: string, runId: string): Promise<Set<string>> {
  const names = await readdir(bricksDir).then((l) => l.filter((f) => f.endsWith('.done')));
  const mine = new Set<string>();
  for (let i = 0; i < names.length; i += 64) {
    await Promise.all(names.slice(i, i + 64).map(async (f) => {
      const text = await readFile(join(bricksDir, f), 'utf8').catch(() => '');
      if (markerRunId(text) === runId) mine.add(f);
    }));
  }
  return mine;
}

export async function predictVolume(storePath: string, modelDir: string, outDir: string, opts: PredictOptions = {}): Promise<PredictResult> {
  const t0 = Date.now();
  const { signal, onProgress } = opts;
  throwIfAborted(signal);
  const model = await readModelFile(modelDir);
  const store = await openVolume(storePath);
  const brick: Shape3 = opts.brick ?? DEFAULT_PREDICT_BRICK;
  const mirror = opts.mirrorSurface === undefined ? (model.mirrorSurface ?? null) : opts.mirrorSurface;
  // a model trained on another geometry would give a wrong map without an error: refused (an older model without the record is not)
  checkTrainedOn(model.trainedOn, store.meta, { targetName: opts.volumeName ?? storePath, featureSet: model.featureSet, mirrors: opts.mirrorSurface === undefined && !!model.mirrorSurface });
  const { shape, spacingUm, originUm } = store.meta;
  await mkdir(join(outDir, 'bricks'), { recursive: true });

  const input = await inputIdentity(store);
  const manifest: RunManifest = { volume: storePath, shape, modelSavedAt: model.savedAt, classes: model.classes, brick, mirror, grid: 'chunks' };
  const manifestPath = join(outDir, 'predict.json');
  let prev = await readFile(manifestPath, 'utf8').then((s) => JSON.parse(s) as RunManifest, () => null);
  let restarted: string | undefined;
  const startAfresh = async (why: string) => {
    await rm(join(outDir, 'bricks'), { recursive: true, force: true });
    await mkdir(join(outDir, 'bricks'), { recursive: true });
    for (const f of ['labels.ome.zarr', 'probabilities.ome.zarr', 'uncertainty.ome.zarr']) await rm(join(/*turbopackIgnore: true*/ outDir, f), { recursive: true, force: true });
    await rm(manifestPath, { force: true });
    prev = null;
    restarted = why;
    onProgress?.(0, why);
  };
  if (prev && !prev.grid && settingsOf({ ...prev, grid: 'chunks' }) === settingsOf(manifest)) {
    // same run started with the old balanced brick grid (bricks straddling chunks): its markers
    // name other bricks and its chunks may have lost writes, so it starts afresh
    await startAfresh(`${outDir} holds a prediction started by an older petromap (another brick grid): starting afresh`);
  }
  if (prev && settingsOf(prev) !== settingsOf(manifest)) {
    throw new PetromapError('Conflict', `${outDir} holds a prediction of ${prev.volume} made with another model or settings; delete the folder or choose another one to start afresh.`);
  }
  if (prev && typeof prev.runId !== 'string') {
    // its finished bricks cannot be told from those of an abandoned run (no run id in their markers)
    await startAfresh(`${outDir} holds a prediction started by an older petromap (no run id): starting afresh`);
  } else if (prev && prev.input !== input) {
    // the same path, another scan (re-imported, replaced): the finished bricks are of the old one
    await startAfresh(`the volume ${opts.volumeName ?? storePath} was replaced since this prediction started (another store at the same path): its finished bricks are of the old scan, starting afresh`);
  }
  const runId = (prev as RunManifest | null)?.runId ?? randomUUID();
  if (!prev) {
    const tmp = `${manifestPath}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ runId, input, ...manifest }, null, 2));
    await rename(tmp, manifestPath);
  }
  const names = model.classNames ?? model.classes.map((c) => `class ${c}`);
  const base = { shape, spacingUm, originUm };
  const paths = { labels: join(outDir, 'labels.ome.zarr'), probs: join(outDir, 'probabilities.ome.zarr'), unc: join(outDir, 'uncertainty.ome.zarr') };
  // only this run's markers count: a brick an abandoned run wrote later is not this run's
  const done = await markersOf(join(outDir, 'bricks'), runId);
  // a previous start of this same run that finished no brick may have left half-created stores
  const fresh = prev !== null && done.size === 0;
  // the outputs lie voxel for voxel on the scan: a voxel size assumed at its import is assumed in them too
  const assumed = store.spacingAssumed;
  const outs = {
    labels: await openOrCreate(paths.labels, { ...base, dtype: 'uint8', channels: ['label'] }, brick, 'mode', fresh, assumed),
    probs: await openOrCreate(paths.probs, { ...base, dtype: 'uint8', channels: names }, brick, 'mean', fresh, assumed),
    unc: await openOrCreate(paths.unc, { ...base, dtype: 'uint8', channels: ['uncertainty'] }, brick, 'mean', fresh, assumed),
  };

  // every brick owns whole chunks of the three outputs (same chunk shape): no two workers share one
  const all = chunkGrid(shape, outs.labels.chunk);
  const todo: Box3[] = [];
  let skipped = 0;
  for (const b of all) {
    if (done.has(markerName(b))) skipped++;
    else if (mirror && boxAboveSurface(b, mirror)) {
      // all air: nothing to classify; its chunks are written as zeros (0: no label) so that every
      // chunk of a finished prediction exists and a missing one is refused as damage, then its marker
      await writeAirBrick(outs, b);
      await writeFile(join(outDir, 'bricks', markerName(b)), JSON.stringify({ air: true, runId }));
      skipped++;
    } else todo.push(b);
  }
  const total = all.length;
  let finished = 0;
  const bricksEnd = opts.pyramids === false ? 0.95 : 0.9;
  const report = (msg: string) => onProgress?.((skipped + finished) / total * bricksEnd, msg);
  report(`${skipped} of ${total} bricks already done`);

  const cluster = opts.cluster === undefined ? clusterFromEnv() : opts.cluster;
  if (cluster && todo.length) {
    // the same bricks, computed by `petromap worker` processes (bullmq is loaded only here)
    const { runBricksOnQueue } = await import('../cluster/brick-queue-node');
    await runBricksOnQueue({ ...cluster, storePath, modelDir, outDir, mirror, todo, outRunId: runId }, {
      signal,
      onBricks: (n) => { if (n > finished) { finished = n; report(`brick ${skipped + finished} of ${total} (workers)`); } },
      onStatus: (m) => onProgress?.(((skipped + finished) / total) * bricksEnd, m),
    });
    todo.length = 0; // all computed by the workers: no threads here
  }

  const nThreads = Math.max(1, Math.min(opts.threads ?? Math.min(4, availableParallelism()), todo.length));
  const workers = Array.from({ length: todo.length ? nThreads : 0 }, () => startTsWorker(new URL('./predict.worker.ts', import.meta.url)));
  let onAbort = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      let sent = 0, active = 0, failed = false;
      const take = runsOf(todo, workers.length);
      const fail = (err: PetromapError) => {
        if (!failed) { failed = true; reject(err); }
      };
      onAbort = () => fail(new PetromapError('Aborted', 'The prediction was cancelled; finished bricks are kept and a restart continues from there.', { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return onAbort();
      if (!todo.length) return resolve();
      const feed = (w: (typeof workers)[number], i: number) => {
        if (failed) return;
        const box = take(i);
        if (!box) {
          if (active === 0) resolve();
          return;
        }
        active++;
        sent++;
        w.postMessage({ type: 'brick', box });
      };
      for (const [i, w] of workers.entries()) {
        w.on('message', (m: PredictReply) => {
          if (m.type === 'ready') feed(w, i);
          else if (m.type === 'done') {
            active--;
            finished++;
            report(`brick ${skipped + finished} of ${total}`);
            feed(w, i);
          } else {
            fail(new PetromapError((m.tag as PetromapError['_tag']) ?? 'Unprocessable', `Prediction of ${storePath} failed: ${m.message}`));
          }
        });
        w.on('error', (err) => fail(new PetromapError('Unprocessable', `A prediction worker failed on ${storePath}: ${err.message}`, { cause: err })));
        w.on('exit', (code) => { if (!failed && (sent < todo.length || active > 0)) fail(new PetromapError('Unprocessable', `A prediction worker stopped early (exit code ${code}).`)); });
        w.postMessage({ type: 'init', storePath, modelDir, outDir, mirror, outRunId: runId } satisfies PredictInit);
      }
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // every brick is done (all workers reported and are terminated): verify, then the pyramids
  throwIfAborted(signal);
  // a worker killed between a chunk's write and its rename leaves a temp file; its brick was redone
  await Promise.all([paths.labels, paths.probs, paths.unc].map((p) => removeStaleTemps(p)));
  onProgress?.(bricksEnd, 'checking that every voxel has a label');
  const check = await countUnlabelled(outs.labels, all, mirror, { signal, onProgress: (f) => onProgress?.(bricksEnd + 0.05 * f, 'checking that every voxel has a label') });
  if (check.unlabelled > 0) {
    // the bricks with holes are redone by a restart
    await Promise.all(check.holes.map((b) => rm(join(outDir, 'bricks', markerName(b)), { force: true })));
    const pct = (100 * check.unlabelled) / Math.max(1, check.sampleVoxels);
    throw new PetromapError(
      'Unprocessable',
      `Prediction of ${storePath} left ${check.unlabelled.toLocaleString('en')} of ${check.sampleVoxels.toLocaleString('en')} voxels inside the sample (${pct < 0.01 ? pct.toPrecision(2) : pct.toFixed(2)} %) without a label ` +
        `(in ${check.holes.length} of ${total} bricks of ${paths.labels}). Those bricks were marked as not done: run the prediction again with the same settings to redo them; if it happens again, report it as a bug.`,
      { details: { unlabelled: check.unlabelled, sampleVoxels: check.sampleVoxels, percent: pct, bricks: check.holes.map(markerName) } },
    );
  }
  if (opts.pyramids !== false) {
    throwIfAborted(signal);
    onProgress?.(0.95, 'building the output pyramids');
    // labels by majority of 2x2x2 (created with downsample 'mode'), the others by mean; one job per
    // channel on the prediction's threads (the bricks are done, the cores are free)
    await buildPyramidsInThreads([outs.labels, outs.probs, outs.unc], Math.max(1, opts.threads ?? Math.min(4, availableParallelism())), { signal });
  }
  // every chunk of level 0 (and of the pyramids once built) is written: a chunk file missing later is refused, not read as zeros
  for (const o of [outs.labels, outs.probs, outs.unc]) if (!o.complete) await o.updateAttrs({ complete: true });
  onProgress?.(1, 'prediction finished');
  return {
    bricksDone: finished,
    bricksSkipped: skipped,
    bricksTotal: total,
    labelsPath: paths.labels,
    probabilitiesPath: paths.probs,
    uncertaintyPath: paths.unc,
    classes: model.classes,
    seconds: (Date.now() - t0) / 1000,
    verifiedVoxels: check.sampleVoxels,
    unlabelledVoxels: check.unlabelled,
    runId,
    ...(restarted ? { restarted } : {}),
  };
}

/** The chunks of an all-air brick in the three outputs, as zeros (whole chunks: the brick is one chunk of each). */
async function writeAirBrick(outs: { labels: ZarrVolumeStore; probs: ZarrVolumeStore; unc: ZarrVolumeStore }, b: Box3): Promise<void> {
  const zeros = new Uint8Array(b.shape[0] * b.shape[1] * b.shape[2]);
  await outs.labels.writeBlock(b, zeros, { wholeChunks: true });
  for (let k = 0; k < outs.probs.meta.channels.length; k++) await outs.probs.writeBlock(b, zeros, { channel: k, wholeChunks: true });
  await outs.unc.writeBlock(b, zeros, { wholeChunks: true });
}

/**
 * The bricks of `todo` as one contiguous run per worker (chunkGrid order: x fastest), so that a
 * worker's next brick is usually the x neighbour of its last and finds half of its input chunks,
 * halo included, in the worker's chunk cache (brick-write-node.ts). A worker whose run is done
 * takes the second half of the longest run left. Returns the next brick of worker i, or undefined.
 */
export function runsOf<T>(todo: readonly T[], n: number): (i: number) => T | undefined {
  const runs = Array.from({ length: n }, (_, i) => ({ next: Math.floor((i * todo.length) / n), end: Math.floor(((i + 1) * todo.length) / n) }));
  return (i) => {
    const own = runs[i]!;
    if (own.next >= own.end) {
      let from: (typeof runs)[number] | undefined;
      for (const r of runs) if (r.end - r.next > (from ? from.end - from.next : 0)) from = r;
      if (!from) return undefined;
      const mid = from.next + Math.floor((from.end - from.next) / 2);
      own.next = mid;
      own.end = from.end;
      from.end = mid;
    }
    return todo[own.next++];
  };
}
