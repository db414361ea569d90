/**
 * `npm run bench -- depth-transfer [--shape z,y,x] [--style a|b] [--seeds 11,12]`: does a model
 * trained on the surface layer (true classes, features mirrored above the surface) read layers in
 * depth better when they are mirrored above their own plane (lib/pipeline/depth-transfer) than as
 * prediction sees them? Prints the model's mean IoU on its held-out surface tiles, on depth layers
 * mirrored above themselves and on the same voxels unmirrored, against the truth.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmaxClasses, confusionMetrics, disposeModel, predictRows, trainClassifier } from '../lib/classify/model';
import { buildTrainingSet, featureFnFor, type LabelledVoxel } from '../lib/classify/training-set';
import { applyMirrorMap, depthLayerRows, fitMirrorMap } from '../lib/pipeline/depth-transfer';
import { openVolume } from '../lib/volume/zarr-store-node';
import { phantomArgs, writePhantom } from './_phantom-run';

const CLASSES = [1, 2, 3, 4, 5];

export async function run(argv: string[]): Promise<void> {
  const a = phantomArgs(argv);
  for (const seed of a.seeds) for (const shape of a.shapes) {
    const dir = await mkdtemp(join(tmpdir(), 'petromap-bench-dt-'));
    try {
      const { sample, volumePath, set } = await writePhantom(dir, a.style, shape, seed);
      const store = await openVolume(volumePath);
      const [nz, ny, nx] = shape;
      const surface = sample.truth.surface;
      const truth = sample.truthLabels;
      const layer: LabelledVoxel[] = [];
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
        const z = Math.round(surface.a * x + surface.b * y + surface.c + 0.5);
        const c = z >= 0 && z < nz ? truth[(z * ny + y) * nx + x]! : 0;
        if (c) layer.push({ z, y, x, cls: c });
      }
      const fn = featureFnFor(set);
      const ts = await buildTrainingSet(store, layer, { features: fn, featureSet: set, mirrorSurface: surface, maxPerClass: 4000 });
      const tm = await trainClassifier(ts, {});
      try {
        const score = async (x: Float32Array, y: ArrayLike<number>, n: number) => confusionMetrics(y, argmaxClasses(await predictRows(tm, x, n), tm.classes), CLASSES);
        const held = await score(ts.heldOut.x, ts.heldOut.y, ts.heldOut.n);
        const d = await depthLayerRows(store, ts.mirrorSurface!, fn, { tiles: 6, seed: 1 });
        const yd = d.vox.map((v) => truth[(v.z * ny + v.y) * nx + v.x]!);
        const mir = await score(d.mirrored, yd, d.vox.length), plain = await score(d.plain, yd, d.vox.length);
        const f = (m: ReturnType<typeof confusionMetrics>) => `${m.meanIoU.toFixed(3)} (${m.perClass.map((c) => c.iou.toFixed(2)).join(' ')})`;
        console.log(`style ${a.style} ${shape.join('x')} s${seed}: model on the true surface layer; mean IoU (pore quartz feldspar clay pyrite): held-out surface ${f(held)}; depth layers mirrored above themselves ${f(mir)}; the same voxels as prediction sees them ${f(plain)}`);
        // the surface rows carried to depth by a linear map fitted on other depth layers (each voxel seen both ways), then a model on them
        const fitD = await depthLayerRows(store, ts.mirrorSurface!, fn, { tiles: 4, seed: 2 });
        const map = fitMirrorMap(fitD);
        const mapped = applyMirrorMap(map, d.mirrored, d.vox.length);
        console.log(`  the map on the evaluation layers: ${f(await score(mapped, yd, d.vox.length))} (the surface model)`);
        for (const noise of [0, 1]) {
          const tr = (r: typeof ts.train, s: number) => ({ ...r, x: applyMirrorMap(map, r.x, r.n, noise ? { seed: s } : undefined) });
          const t2 = { ...ts, train: tr(ts.train, 3), heldOut: tr(ts.heldOut, 4) };
          const m2 = await trainClassifier(t2, {});
          try {
            const sc = confusionMetrics(yd, argmaxClasses(await predictRows(m2, d.plain, d.vox.length), m2.classes), CLASSES);
            console.log(`  model on the mapped surface rows${noise ? ' + residuals' : ''}: depth layers as prediction sees them ${f(sc)}`);
          } finally {
            disposeModel(m2);
          }
        }
      } finally {
        disposeModel(tm);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
