/**
 * In-process, one-thread profile of the prediction of a brick (`npm run bench -- predict --profile`):
 * the CPU time of every stage of a brick, as medians over the bricks, in ns per output voxel and as a
 * fraction of the brick's total, for the fused wasm path (what predictVolume runs) and for the
 * TF.js path (rows -> standardise -> tensor -> model.predict -> brickOutputs). Runs on the calling
 * thread only, so on a shared machine the fractions matter more than the absolute times.
 */
import { brickOutputs, clearAboveSurface } from '../lib/classify/brick-predict';
import { fusedMlpOf, runFusedMlpInto } from '../lib/classify/fused-mlp';
import { predictRows, standardise, type TrainedModel } from '../lib/classify/model';
import { loadModel } from '../lib/classify/model-io-node';
import { allocBrickOutputs } from '../lib/classify/predict-brick';
import { chunkGrid, featureHalo, featuresForBox, featuresForBoxPlanar, type FeatureSet } from '../lib/features';
import { kernelsFlavour, wasmKernels } from '../lib/features/kernels-wasm';
import type { Shape3 } from '../lib/volume/types';
import { brickReader } from '../lib/volume/zarr/brick-reader-node';
import { createVolume, openVolume } from '../lib/volume/zarr-store-node';

/** CPU time of this process in ms (one thread works here; on a shared machine wall time counts other people's work) */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

export async function profileBricks(storePath: string, modelDir: string, outDir: string, count: number, brick: Shape3): Promise<void> {
  const store = await openVolume(storePath);
  const tm: TrainedModel = await loadModel(modelDir);
  const net = fusedMlpOf(tm)!;
  const set = tm.featureSet!;
  const halo = featureHalo(set, store.meta.spacingUm);
  const { shape, spacingUm, originUm } = store.meta;
  const base = { shape, spacingUm, originUm };
  const labels = await createVolume(`${outDir}/labels.ome.zarr`, { ...base, dtype: 'uint8', channels: ['label'] }, { chunk: brick, downsample: 'mode' });
  const probs = await createVolume(`${outDir}/probs.ome.zarr`, { ...base, dtype: 'uint8', channels: tm.classes.map(String) }, { chunk: brick });
  const unc = await createVolume(`${outDir}/unc.ome.zarr`, { ...base, dtype: 'uint8', channels: ['u'] }, { chunk: brick });
  const boxes = chunkGrid(shape, brick).slice(0, count);
  // reads go through a brick reader (chunk cache, reused blocks) in brick order, as in the prediction
  // threads (brick-write-node): one per use, so that the read timed alone costs what the read inside
  // the features costs
  const [readVia, fusedVia, tfjsVia] = [0, 1, 2].map(() => brickReader(store));
  const fused: Record<string, number[]> = {};
  const tfjs: Record<string, number[]> = {};
  const add = (r: Record<string, number[]>, k: string, ms: number, n: number) => (r[k] ??= []).push((ms * 1e6) / n);
  let into = allocBrickOutputs(1, 1);
  for (const box of boxes) {
    const n = box.shape[0] * box.shape[1] * box.shape[2];
    if (into.labels.length !== n) into = allocBrickOutputs(n, tm.classes.length);
    let t = cpu();
    await readVia.readBlock(box, { halo });
    const tRead = cpu() - t;
    // fused: read + filters, then (inside the consumer) the MLP and the copy of its outputs
    let tMlp = 0;
    t = cpu();
    await featuresForBoxPlanar(fusedVia, box, set, (K, planar, nVox) => {
      const t1 = cpu();
      runFusedMlpInto(K, net, planar, nVox, into);
      tMlp = cpu() - t1;
    });
    const tAll = cpu() - t;
    add(fused, 'read + decode (box with halo, chunk cache)', tRead, n);
    add(fused, 'features (wasm filters, planes)', tAll - tMlp - tRead, n);
    add(fused, 'fused MLP + argmax + quantise (wasm)', tMlp, n);
    t = cpu();
    clearAboveSurface(into, box, { a: 0, b: 0, c: -1 });
    add(fused, 'air mask (JS)', cpu() - t, n);
    t = cpu();
    await labels.writeBlock(box, into.labels, { wholeChunks: true });
    for (let k = 0; k < into.probabilities.length; k++) await probs.writeBlock(box, into.probabilities[k]!, { channel: k, wholeChunks: true });
    await unc.writeBlock(box, into.uncertainty, { wholeChunks: true });
    const tWrite = cpu() - t;
    add(fused, 'write: zstd encode + files', tWrite, n);

    // TF.js path, stage by stage
    t = cpu();
    const f = await featuresForBox(tfjsVia, box, set);
    const tRows = cpu() - t;
    add(tfjs, 'read + decode (box with halo, chunk cache)', tRead, n);
    add(tfjs, 'features + planes -> rows copy', tRows - tRead, n);
    t = cpu();
    standardise(f.data, tm.mean, tm.std);
    const tStd = cpu() - t;
    add(tfjs, '  of which standardise (JS, in predictRows)', tStd, n);
    t = cpu();
    const p = await predictRows(tm, f.data, n);
    add(tfjs, 'predictRows: standardise, tensor, TF.js MLP, copy out', cpu() - t, n);
    t = cpu();
    brickOutputs(p, tm.classes, box, undefined);
    add(tfjs, 'brickOutputs: argmax, quantise (JS)', cpu() - t, n);
    add(tfjs, 'write: zstd encode + files', tWrite, n);
  }
  for (const [name, rows] of [['fused wasm path (predictVolume)', fused], ['TF.js path (before)', tfjs]] as const) {
    const keys = Object.keys(rows);
    const med = keys.map((k) => median(rows[k]!));
    const total = med.reduce((a, b, i) => a + (keys[i]!.startsWith('  ') ? 0 : b), 0);
    console.log(`${name}: ${boxes.length} bricks of ${brick.join('x')}, one thread, ${kernelsFlavour()} kernels, medians per output voxel`);
    for (let i = 0; i < keys.length; i++) console.log(`  ${keys[i]!.padEnd(56)} ${med[i]!.toFixed(0).padStart(6)} ns ${((100 * med[i]!) / total).toFixed(1).padStart(6)} %`);
    console.log(`  ${'total'.padEnd(56)} ${total.toFixed(0).padStart(6)} ns = ${(1e3 / total).toFixed(2)} M voxels/s per thread`);
  }
}

/**
 * CPU time of every feature kernel call on `count` bricks of the store (features only, one thread):
 * conv passes by axis and radius, eig3, columns, ... in ns per output voxel, summed over the calls.
 * The kernel instance's exports are wrapped for the run (its memory and state are not touched).
 */
export async function profileKernels(storePath: string, set: FeatureSet, count: number, brick: Shape3): Promise<void> {
  const store = await openVolume(storePath);
  const K = wasmKernels();
  const orig = K.k as unknown as Record<string, unknown>;
  const timed: Record<string, unknown> = {};
  const acc = new Map<string, number>();
  for (const [name, fn] of Object.entries(orig)) {
    if (typeof fn !== 'function') {
      timed[name] = fn;
      continue;
    }
    timed[name] = (...a: number[]) => {
      const t = cpu();
      const r = (fn as (...x: number[]) => unknown)(...a);
      const k = name === 'conv' ? `conv along ${'zyx'[a[10]!]} radius ${a[12]}` : name;
      acc.set(k, (acc.get(k) ?? 0) + cpu() - t);
      return r;
    };
  }
  const boxes = chunkGrid(store.meta.shape, brick).slice(0, count);
  let n = 0;
  let total = 0;
  (K as unknown as { k: unknown }).k = timed;
  try {
    for (const box of boxes) {
      const t = cpu();
      await featuresForBoxPlanar(store, box, set, () => {});
      total += cpu() - t;
      n += box.shape[0] * box.shape[1] * box.shape[2];
    }
  } finally {
    (K as unknown as { k: unknown }).k = orig;
  }
  const per = (ms: number) => ((ms * 1e6) / n).toFixed(1).padStart(7);
  console.log(`feature kernels: ${boxes.length} bricks of ${brick.join('x')} (read included in the total only), CPU ns per output voxel`);
  const byAxis = new Map<string, number>();
  for (const [k, v] of [...acc].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${k.padEnd(32)} ${per(v)}`);
    if (k.startsWith('conv')) byAxis.set(k.slice(0, 12), (byAxis.get(k.slice(0, 12)) ?? 0) + v);
  }
  for (const [k, v] of byAxis) console.log(`  ${(k + ' (all radii)').padEnd(32)} ${per(v)}`);
  console.log(`  ${'all kernels'.padEnd(32)} ${per([...acc.values()].reduce((a, b) => a + b, 0))}`);
  console.log(`  ${'features total (read, JS glue)'.padEnd(32)} ${per(total)}`);
}
