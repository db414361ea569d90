/**
 * Project state in the artifacts table (server/db/project-state.ts): every key round-trips a value
 * shaped as the pipeline writes it; a stored value that does not parse reads as absent with one
 * warning; setArtifact refuses a wrong shape and keeps what was stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDb } from '@/server/db';
import { PROJECT_STATE_KEYS, type ProjectState, type ProjectStateKey } from '@/server/db/project-state';
import { Repo } from '@/server/db/repo';
import type { FieldCorrection } from '@/lib/registration/types';
import type { RegistrationRecord } from '@/server/pipeline/correlate';
import type { ModelSummary } from '@/server/pipeline/train-model';

const dirs: string[] = [];
let repo: Repo;
let projectId: string;
beforeEach(() => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'petromap-state-'));
  dirs.push(d);
  repo = new Repo(openDb(path.join(d, 'petromap.db')));
  projectId = repo.createProject('state', 'mineralogy').id;
});
afterEach(() => {
  repo.db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.restoreAllMocks();
});

const classes = [
  { code: 1, name: 'pore', color: [20, 20, 20] as [number, number, number] },
  { code: 2, name: 'quartz', color: [230, 220, 200] as [number, number, number] },
];

const registration: RegistrationRecord = {
  volumeId: 'd1a2b3c4d5', edsId: 'd6e7f8a9b0',
  edsToSlab: [0.5, 0, 12.25, 0, 0.5, -3.5],
  edsToVoxel: [1.2, 0.01, 7.5, 0, 0.5, 3, 0.5, 0, 2],
  slabToVoxel: [0.01, 0.02, 7.5, 0, 1, 0, 1, 0, 0],
  surface: { a: 0.01, b: 0.02, c: 7.5, tiltDeg: 1.3, azimuthDeg: 63.4, residualRms: 0.21, inlierFraction: 0.97, threshold: 4123.5 },
  quality: { miBefore: 0.31, miAfter: 0.52, scoreAfter: 0.44, coverage: 0.98, landmarkResiduals: [0.4, 0.7, 0.2], initialisation: 'landmarks', refinedBy: 'ratio' },
  landmarks: [{ eds: [10, 12], slab: [5.5, 6] }, { eds: [200, 40], slab: [100, 20.5] }, { eds: [50, 190], slab: [25, 95] }],
  source: 'auto', accepted: true, truthError: { meanVox: 0.3, maxVox: 0.9 }, createdAt: 1_767_000_000_000,
  overlay: { id: 123456, width: 96, height: 80 },
};

const epochs = [{ epoch: 1, loss: 0.9, valLoss: 1.1, valAccuracy: 0.6 }, { epoch: 2, loss: 0.5, valLoss: 0.7, valAccuracy: 0.81 }];

const model: ModelSummary = {
  createdAt: 1_767_000_100_000, jobId: 'jabc123', modelRel: 'projects/p1/model-jabc123',
  features: ['grey gaussian 1.5 µm', 'grey laplacian 3 µm'],
  featureSet: { specs: [{ filter: 'gaussian', sigmaUm: 1.5 }, { filter: 'laplacian', sigmaUm: 3 }], preset: 'custom' },
  classes: [1, 2], hidden: [48, 48], bestEpoch: 2, history: epochs,
  validation: {
    classes: [1, 2], confusion: [[50, 3], [4, 80]], accuracy: 0.95, meanIoU: 0.88,
    perClass: [{ class: 1, precision: 0.93, recall: 0.94, f1: 0.93, iou: 0.87, support: 53 }, { class: 2, precision: 0.96, recall: 0.95, f1: 0.96, iou: 0.92, support: 84 }],
  },
  counts: [{ class: 1, available: 500, train: 400, heldOut: 53 }, { class: 2, available: 900, train: 400, heldOut: 84 }],
  labelledVoxels: 1400,
  mirrorSurface: { a: 0.01, b: 0.02, c: 7.5, edge: { binsPerVox: 4, d0: -2, airShare: [0.9, 0.6, 0.2, 0], air: 1200, rock: 9000 } },
  trainSeconds: 12.5,
  faces: ['top', 'bottom'],
  // the truth-free 3D quality estimate with its measures per class (kept so the Results page shows them after a reload)
  quality: {
    meanIoU: 0.66, surfaceMeanIoU: 0.8, depthAgreement: 0.5, crossHalf: 0.6, depthConfidence: 0.62, surfaceConfidence: 0.7, outOfRange: 0.01, sampled: 24576,
    perClass: [
      { class: 1, estimate: 0.7, surfaceIoU: 0.87, surfaceSupport: 53, depthAgreement: 0.6, crossHalf: 0.7, depthExpected: 0.72, surfaceExpected: 0.8, depthShare: 0.3, labelShare: 0.28 },
      { class: 2, estimate: 0.62, surfaceIoU: 0.92, surfaceSupport: 84, depthAgreement: 0.4, crossHalf: 0.5, depthExpected: 0.6, surfaceExpected: 0.7, depthShare: 0.7, labelShare: 0.72 },
    ],
  },
};

/** One value per key, shaped as the pipeline writes it. The type makes a new key without a sample fail to compile. */
const SAMPLES: { [K in ProjectStateKey]: ProjectState[K] } = {
  registration,
  // the bottom face's map (issue 15 §1): the same record, under its own key
  bottomRegistration: { ...registration, edsId: 'd0bottom01', edsToVoxel: [-1.2, -0.01, 31.5, 0, 0.5, 3, 0.5, 0, 2] },
  classMap: { 1: 2, 2: 3, 7: null },
  // a map refused as the bottom face (issue 15 §1): not the project's bottom map
  refusedMaps: { d0bottom02: { face: 'bottom', reason: 'The second EDS map (other.zip), bottom face does not match the bottom face of the volume.', at: 1_767_000_100_000 } },
  inputs: { volumeId: 'd1a2b3c4d5', edsId: 'd6e7f8a9b0' },
  classes,
  featureSet: { specs: [{ filter: 'gaussian', sigmaUm: 1.5 }, { filter: 'hessianEigen', sigmaUm: 3 }], preset: 'custom' },
  featureThroughput: { unitsPerSec: 2.5e7, measuredAt: 1_767_000_000_500 },
  labelCounts: { key: JSON.stringify([registration.createdAt, 'd1', 'd2', null]), counts: { 1: 1234, 2: 5678 }, boundary: 321 },
  trainPrepareJob: { id: 'j0123456789', key: JSON.stringify(['k', null]) },
  trainJob: 'jabc123',
  trainHistory: { jobId: 'jabc123', epochs, maxEpochs: null },
  model,
  predictJob: 'jdef456',
  predictionRun: { modelCreatedAt: model.createdAt, volumeId: 'd1a2b3c4d5' },
  prediction: { createdAt: 1_767_000_200_000, modelCreatedAt: model.createdAt, jobId: 'jdef456', classes: [1, 2], seconds: 40.2, shape: [40, 72, 64] },
  resultsStats: {
    modal: { rows: [{ class: 1, name: 'pore', voxels: 100, volumePercent: 10, edsPixels: 50, edsAreaPercent: 11 }, { class: 2, name: 'quartz', voxels: 900, volumePercent: 90 }], totalVoxels: 1000, unknownVoxels: 0, totalEdsPixels: 450 },
    depth: { classes: [{ code: 1, name: 'pore' }, { code: 2, name: 'quartz' }], depthUm: [2, 4], binUm: 2, counts: [[10, 90], [12, 88]], fractions: [[0.1, 0.9], [0.12, 0.88]], totals: [100, 100] },
    histograms: { lo: 0, hi: 65535, bins: 3, counts: { 1: [5, 3, 0], 2: [0, 10, 40] } },
    truthIoU: { 1: 0.8, 2: 0.93 },
    seconds: 3.2, version: 2, predictionCreatedAt: 1_767_000_200_000, overviewRel: 'projects/p1/results/labels-3d.nii',
  },
  resultsStatsJob: { jobId: 'jstats1', predictionCreatedAt: 1_767_000_200_000 },
  annotations: { volumeId: 'd1a2b3c4d5', relPath: 'projects/p1/annotations-d1a2b3c4d5.ome.zarr', shape: [40, 72, 64], counts: { 1: 120, 3: 45 }, updatedAt: 1_767_000_300_000 },
  lithologyPrediction: {
    volumeId: 'd1a2b3c4d5', relPath: 'projects/p1/lithology-d1a2b3c4d5/prediction/labels.ome.zarr', jobId: 'jlith1', classes, strokeCounts: { 1: 120, 2: 45 },
    heldOutAccuracy: null, perClass: [{ code: 1, f1: 0.9, support: 30 }, { code: 2, f1: 0.85, support: 12 }], fractions: { 1: 0.3, 2: 0.7 }, createdAt: 1_767_000_400_000,
  },
  eraseClassJob: { jobId: 'jerase1', code: 3, name: 'fracture' },
  scanProposals: {
    key: JSON.stringify(['strokes', 'strokes d1a2b3c4d5 1767000300000', [16, 24, 24], [[1, 'pore'], [2, 'quartz']]]),
    source: 'strokes', version: 'strokes d1a2b3c4d5 1767000300000', fovUm: [16, 24, 24], classes: [{ code: 1, name: 'pore' }, { code: 2, name: 'quartz' }],
    result: {
      proposals: [{
        code: 1, name: 'pore', purity: 0.97, box: { start: [4, 10, 12], shape: [8, 12, 12] }, startUm: [7, 19, 23], sizeUm: [16, 24, 24], centreUm: [15, 31, 35],
        fractions: [{ code: 1, name: 'pore', fraction: 0.97 }, { code: 2, name: 'quartz', fraction: 0.01 }, { code: 0, name: 'unlabelled', fraction: 0.02 }],
      }],
      fovVox: [8, 12, 12], absent: [{ code: 2, name: 'quartz' }], cellVox: 4,
    },
    jobId: 'jprop1', createdAt: 1_767_000_500_000,
  },
  scanProposalsJob: { jobId: 'jprop1', key: 'k', fovUm: [16, 24, 24] },
};

const writeRaw = (key: string, text: string) =>
  repo.db.prepare('INSERT INTO artifacts (project_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
    .run(projectId, key, text, Date.now());
const readRaw = (key: string) => (repo.db.prepare('SELECT value FROM artifacts WHERE project_id = ? AND key = ?').get(projectId, key) as { value: string } | undefined)?.value;

describe('project state', () => {
  it('has a sample for every key', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...PROJECT_STATE_KEYS].sort());
  });

  it.each(PROJECT_STATE_KEYS)('round-trips %s', (key) => {
    const warn = vi.spyOn(console, 'warn');
    expect(repo.artifact(projectId, key)).toBeUndefined();
    repo.setArtifact(projectId, key, SAMPLES[key]);
    expect(repo.artifact(projectId, key)).toEqual(SAMPLES[key]);
    repo.deleteArtifact(projectId, key);
    expect(repo.artifact(projectId, key)).toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
  });

  it('stores what JSON can hold: a NaN metric reads back as null, members the schema does not know are dropped', () => {
    repo.setArtifact(projectId, 'model', { ...model, validation: { ...model.validation, accuracy: NaN, meanIoU: NaN } });
    expect(repo.artifact(projectId, 'model')!.validation.accuracy).toBeNull();
    const withHeightMap = { ...registration, surface: { ...registration.surface, heightMap: new Float32Array([1, 2]) } };
    repo.setArtifact(projectId, 'registration', withHeightMap);
    expect(readRaw('registration')).not.toContain('heightMap');
    expect(repo.artifact(projectId, 'registration')).toEqual(registration);
    // a registration fitted to landmarks only has no image measures
    const landmarksOnly: RegistrationRecord = { ...registration, source: 'landmarks', quality: { miBefore: null, miAfter: null, scoreAfter: null, coverage: null, landmarkResiduals: [0.5], initialisation: 'landmarks', refinedBy: 'none' } };
    repo.setArtifact(projectId, 'registration', landmarksOnly);
    expect(repo.artifact(projectId, 'registration')).toEqual(landmarksOnly);
  });

  it('keeps a field placed within its noise (belowNoise) through storing and reading; a field stored without the flag reads as it was', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const field = (name: string, u0: number, extra: Partial<FieldCorrection>): FieldCorrection =>
      ({ name, u0, v0: 0, width: 100, height: 100, shiftPx: [0, 0], overlap: 1, moved: false, placedBy: 'global', ...extra });
    const fields: FieldCorrection[] = [
      field('A1', 0, { shiftPx: [0.62, -0.31], moved: true, placedBy: 'measured', belowNoise: true }),
      field('A2', 100, { shiftPx: [1.8, 0.4], moved: true, placedBy: 'measured' }),
      field('A3', 200, {}),
    ];
    const perField: RegistrationRecord = {
      ...registration, model: 'fields', fields,
      candidates: { similarity: { edsToSlab: registration.edsToSlab }, fields: { edsToSlab: registration.edsToSlab, fields } },
    };
    repo.setArtifact(projectId, 'registration', perField);
    expect(readRaw('registration')).toContain('"belowNoise":true');
    const back = repo.artifact(projectId, 'registration')!;
    expect(back).toEqual(perField);
    expect(back.fields!.map((f) => f.belowNoise)).toEqual([true, undefined, undefined]);
    expect(back.candidates!.fields!.fields[0]!.belowNoise).toBe(true);
    // a registration stored before the flag (no belowNoise member anywhere) still reads, unchanged
    const old = JSON.stringify(perField).replace(/,"belowNoise":true/g, '');
    expect(old).not.toContain('belowNoise');
    writeRaw('registration', old);
    expect(repo.artifact(projectId, 'registration')).toEqual(JSON.parse(old));
    expect(warn).not.toHaveBeenCalled();
  });

  it('reads a stored value that does not parse as absent, warning once per stored value', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // an older petromap's label counts: counts per class as an array
    writeRaw('labelCounts', JSON.stringify({ key: 'k', counts: [0, 1234, 5678], boundary: 3 }));
    expect(repo.artifact(projectId, 'labelCounts')).toBeUndefined();
    expect(repo.artifact(projectId, 'labelCounts')).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(new RegExp(`project ${projectId}.*'labelCounts'.*counts`));

    // a model row without its validation, a registration with a 2x3 matrix where a 3x3 belongs, text that is not JSON
    const { validation: _v, ...noValidation } = model;
    writeRaw('model', JSON.stringify(noValidation));
    writeRaw('registration', JSON.stringify({ ...registration, edsToVoxel: registration.edsToSlab }));
    writeRaw('prediction', '{"createdAt": 17');
    writeRaw('trainJob', '42');
    for (const key of ['model', 'registration', 'prediction', 'trainJob'] as const) expect(repo.artifact(projectId, key)).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(5);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringContaining("'labelCounts'"), expect.stringContaining("'model'"), expect.stringContaining("'registration'"),
      expect.stringContaining("'prediction'"), expect.stringContaining("'trainJob'"),
    ]);

    // redoing the step replaces it
    repo.setArtifact(projectId, 'model', model);
    expect(repo.artifact(projectId, 'model')).toEqual(model);
    expect(warn).toHaveBeenCalledTimes(5);
  });

  it('refuses to store a wrong shape and keeps what was stored', () => {
    repo.setArtifact(projectId, 'model', model);
    const bad = { ...model, history: [{ epoch: 1, loss: '0.5' }] } as unknown as ModelSummary;
    expect(() => repo.setArtifact(projectId, 'model', bad)).toThrow(/'model'.*history\.0/);
    expect(repo.artifact(projectId, 'model')).toEqual(model);
    expect(() => repo.setArtifact(projectId, 'prediction', { ...SAMPLES.prediction, shape: [40, 72] } as unknown as ProjectState['prediction'])).toThrow(/'prediction'.*shape/);
    expect(() => repo.setArtifact(projectId, 'classes', [{ code: 1, name: 'pore' }] as unknown as ProjectState['classes'])).toThrow(/'classes'/);
    expect(() => repo.setArtifact(projectId, 'trainJob', undefined as unknown as string)).toThrow(/'trainJob'/);
    expect(repo.artifact(projectId, 'prediction')).toBeUndefined();
  });

  it('knows no other keys', () => {
    // @ts-expect-error unknown keys do not compile
    expect(() => repo.setArtifact(projectId, 'somethingElse', {})).toThrow();
    // @ts-expect-error unknown keys do not compile
    expect(repo.artifact(projectId, 'somethingElse')).toBeUndefined();
  });
});
