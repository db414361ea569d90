/**
 * A workspace with a small synthetic sandstone project (volume + EDS map + truth), the truth
 * registration stored as accepted (as the Correlate step would after the user accepts it).
 */
import path from 'node:path';
import type { Services } from '@/server/services';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import { generateSandstone, type SandstoneInput, type SyntheticSample } from '@/lib/synthetic';
import { writeDenseVolume } from '@/lib/volume/zarr-store-node';
import type { Affine2, Affine2to3 } from '@/lib/coords';
import { addEdsDataset, addVolumeDataset, tempWorkspace } from './temp-workspace';

export interface TrainFixture {
  svc: Services;
  projectId: string;
  sample: SyntheticSample;
  cleanup: () => void;
}

export async function makeSandstoneProject(opts: SandstoneInput = { shape: [40, 96, 96], seed: 3, grainDiameterVox: 14 }): Promise<TrainFixture> {
  const { svc, cleanup } = tempWorkspace({ prefix: 'petromap-train-' });
  const { ws, repo } = svc;
  const sample = generateSandstone(opts);
  const projectId = repo.createProject('Synthetic sandstone', 'mineralogy').id;
  await addVolumeDataset(svc, projectId, sample.volume, { name: 'sandstone.nrrd', chunk: [32, 32, 32] });
  await addEdsDataset(svc, projectId, sample.eds, { name: 'sandstone-eds.png' });
  // ground truth kept with the project, as the demo does
  await writeDenseVolume(path.join(ws.projectDir(projectId), 'truth-labels.ome.zarr'), { meta: { ...sample.volume.meta, dtype: 'uint8' }, data: sample.truthLabels }, { chunk: [32, 32, 32] });
  return { svc, projectId, sample, cleanup };
}

/** The exact registration of the synthetic sample, stored as the Correlate step stores it. */
export function storeTruthRegistration(fx: TrainFixture, accepted = true) {
  const { svc, projectId, sample } = fx;
  const ds = svc.repo.listDatasets(projectId);
  const { a, b, c } = sample.truth.surface;
  const slabToVoxel: Affine2to3 = [a, b, c, 0, 1, 0, 1, 0, 0];
  const m = sample.truth.edsToVoxel;
  const edsToSlab: Affine2 = [m[6], m[7], m[8], m[3], m[4], m[5]];
  const rec: RegistrationRecord = {
    volumeId: ds.find((d) => d.kind === 'volume')!.id,
    edsId: ds.find((d) => d.kind === 'eds')!.id,
    edsToSlab, edsToVoxel: m, slabToVoxel,
    surface: { a, b, c, tiltDeg: 0, azimuthDeg: 0, residualRms: 0, inlierFraction: 1, threshold: 0 },
    quality: { miBefore: null, miAfter: null, scoreAfter: null, coverage: null, landmarkResiduals: [], initialisation: 'landmarks', refinedBy: 'none' },
    landmarks: [], source: 'landmarks', accepted, createdAt: Date.now(),
  };
  svc.repo.setArtifact(projectId, 'registration', rec);
  return rec;
}

/** Per class code: intersection over union of the predicted and true voxels, air (truth 0) not scored; NaN for a class in neither. */
export function iouPerClass(truth: Uint8Array, pred: Uint8Array, classes: number[]) {
  const out: Record<number, number> = {};
  for (const c of classes) {
    let inter = 0, union = 0;
    for (let i = 0; i < truth.length; i++) {
      if (truth[i] === 0) continue; // air: not scored
      const t = truth[i] === c, p = pred[i] === c;
      if (t && p) inter++;
      if (t || p) union++;
    }
    out[c] = union ? inter / union : NaN;
  }
  return out;
}

/** The bytes of an export stream (exportVolumeStream's body), in one array. */
export async function collect(gen: AsyncGenerator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}
