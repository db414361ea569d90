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
import { depthLayerRows } from '../lib/pipeline/depth-transfer';
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
      } finally {
        disposeModel(tm);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
