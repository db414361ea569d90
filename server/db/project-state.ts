/**
 * The per-project state kept in the SQLite `artifacts` table, one zod schema per key. Repo.artifact
 * parses what it reads with the key's schema (a stored value that does not parse, e.g. written by
 * an older petromap, reads as absent, so the page offers to redo the step) and Repo.setArtifact
 * refuses a value of the wrong shape. Each schema is checked at compile time to describe exactly
 * the TypeScript type the code uses (`exactly<T>()`), so the two cannot drift apart; the types of
 * the small rows that exist only here are derived from their schemas.
 *
 * Only type imports from server/pipeline and lib: this module sits under server/db/repo.ts.
 */
import { z } from 'zod';
import type { SurfacePlane } from '@/lib/classify/mirror';
import type { TrainedOn } from '@/lib/classify/trained-on';
import type { EdgeProfile } from '@/lib/classify/surface-edge';
import type { ClassMetrics, EpochInfo, Validation } from '@/lib/classify/model';
import type { ClassCount } from '@/lib/classify/training-set';
import type { FeatureThroughput } from '@/lib/features/throughput-node';
import type { FeatureSet, FeatureSpec, FilterName } from '@/lib/features/types';
import type { FieldCorrection, ModelCandidates, ModelChoice, RegistrationConfidence, RegistrationModel, RegistrationQuality, ResidualMap } from '@/lib/registration/types';
import type { DepthProfile } from '@/lib/report/depth';
import type { ModalMineralogy, ModalRow, ReportClass } from '@/lib/report/modal';
import type { ClassFraction, ProposalClass, ProposeResult, ScanProposal } from '@/lib/report/proposals';
import type { GreyHistograms } from '@/lib/report/results-stats';
import type { Affine2, Affine2to3 } from '@/lib/coords';
import type { Box3, Shape3 } from '@/lib/volume/types';
import type { SurfaceOut } from '../jobs/tasks-correlate';
import type { AnnotationsRecord, PredictionRecord as LithologyPredictionRecord } from '../pipeline/annotate';
import type { StoredProposals } from '../pipeline/annotate-jobs';
import type { RegistrationRecord } from '../pipeline/correlate';
import type { ClassDef } from '../pipeline/project-inputs';
import type { StoredResultsStats } from '../pipeline/results-stats';
import type { LiveHistory, ModelSummary, PredictionRecord } from '../pipeline/train-model';
import type { QualityEstimate } from '@/lib/classify/quality-estimate';
import type { QualityClass } from '@/lib/classify/quality-text';

// ---------------------------------------------------------------- helpers

/** true when A and B are the same type (optional members and nested objects included). */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;

/**
 * `exactly<T>()(schema)`: the schema, typed as describing T. Compiles only when the schema's
 * output is exactly T (a member missing on either side, optional or not, is an error: the
 * argument's type becomes `never`).
 */
const exactly = <T>() => <S extends z.ZodType>(schema: S & (Equal<z.output<S>, T> extends true ? unknown : never)): z.ZodType<T> => schema as z.ZodType<T>;

/**
 * A computed number (a metric, a loss, a fit, a statistic). JSON has no NaN or ±Infinity:
 * JSON.stringify writes them as null, so a stored null is read back as it always was (null).
 */
const real = z.custom<number>((v) => typeof v === 'number' || v === null, 'a number');
/** A count, code, size, id or timestamp: always a finite number. */
const num = z.number();
const reals = z.array(real);
const tuple3 = <T extends z.ZodType>(t: T) => z.tuple([t, t, t]);
const rgb = exactly<[number, number, number]>()(tuple3(num));
const shape3 = exactly<Shape3>()(tuple3(num));
const affine2 = exactly<Affine2>()(z.tuple([real, real, real, real, real, real]));
const affine2to3 = exactly<Affine2to3>()(z.tuple([real, real, real, real, real, real, real, real, real]));

// ---------------------------------------------------------------- shared parts

const classDef = exactly<ClassDef>()(z.object({ code: num, name: z.string(), color: rgb }));

const FILTERS = [
  'intensity', 'gaussian', 'gradientMagnitude', 'laplacian', 'dog', 'hessianEigen', 'structureTensorEigen', 'localMean', 'localVariance', 'nonLocalMean',
] as const;
const filterName = exactly<FilterName>()(z.enum(FILTERS));
const featureSpec = exactly<FeatureSpec>()(z.object({ filter: filterName, sigmaUm: real }));
const featureSet = exactly<FeatureSet>()(z.object({ specs: z.array(featureSpec), preset: z.enum(['default', 'skimage', 'custom']).optional(), version: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional() }));

const epochInfo = exactly<EpochInfo>()(z.object({ epoch: num, loss: real, valLoss: real, valAccuracy: real }));
const classMetrics = exactly<ClassMetrics>()(z.object({ class: num, precision: real, recall: real, f1: real, iou: real, support: num }));
const validation = exactly<Validation>()(z.object({ classes: z.array(num), confusion: z.array(z.array(num)), perClass: z.array(classMetrics), accuracy: real, meanIoU: real }));
const classCount = exactly<ClassCount>()(z.object({ class: num, available: num, train: num, heldOut: num }));
const edgeProfile = exactly<EdgeProfile>()(z.object({ binsPerVox: real, d0: real, airShare: reals, air: real, rock: real }));
/** the volume a model was trained on (lib/classify/trained-on) */
const trainedOn = exactly<TrainedOn>()(z.object({ volume: z.string(), volumeId: z.string().optional(), shape: shape3, spacingUm: tuple3(num), featureVersion: num }));
const surfacePlane = exactly<SurfacePlane>()(z.object({ a: real, b: real, c: real, edge: edgeProfile.optional() }));

const surfaceOut = exactly<SurfaceOut>()(z.object({
  a: real, b: real, c: real, tiltDeg: real, azimuthDeg: real, residualRms: real, inlierFraction: real, threshold: real,
}));
/** lib/registration/confidence.ts: absent in registrations stored before it (treated as before) */
const registrationConfidence = exactly<RegistrationConfidence>()(z.object({
  verdict: z.enum(['confirmed', 'doubtful']), reason: z.string(),
  readings: z.object({ heldOutRmsVox: real.nullable(), patches: num.nullable(), miRatio: real.nullable(), coverage: real, landmarkRmsVox: real.nullable() }),
}));
const registrationQuality = exactly<RegistrationQuality>()(z.object({
  miBefore: real, miAfter: real, scoreAfter: real, coverage: real, landmarkResiduals: reals.optional(),
  initialisation: z.enum(['landmarks', 'automatic']), refinedBy: z.enum(['elastix', 'ratio', 'none']),
  coarseMi: real.optional(), secondMi: real.optional(), confidence: registrationConfidence.optional(),
}));
/** a registration fitted to landmarks only: no image measures */
const landmarkQuality = z.object({
  miBefore: z.null(), miAfter: z.null(), scoreAfter: z.null(), coverage: z.null(), landmarkResiduals: reals,
  initialisation: z.literal('landmarks'), refinedBy: z.literal('none'),
});
const px = z.tuple([real, real]);
// the registration's model (issue 19); all optional in the record: registrations stored before read as they were
const registrationModel = exactly<RegistrationModel>()(z.enum(['similarity', 'affine', 'fields']));
const modelChoice = exactly<ModelChoice>()(z.object({
  requested: z.enum(['auto', 'similarity', 'affine', 'fields']), kept: registrationModel, reason: z.string(), patches: num,
  heldOutRmsVox: z.object({ similarity: real.nullable(), affine: real.nullable(), fields: real.nullable() }),
  heldOutGain: z.tuple([real, real]).optional(), affineStretch: z.tuple([real, real]).optional(),
}));
const fieldCorrection = exactly<FieldCorrection>()(z.object({
  name: z.string().optional(), u0: num, v0: num, width: num, height: num, shiftPx: px, overlap: real, moved: z.boolean(),
  placedBy: z.enum(['measured', 'neighbours', 'global']).optional(), unplaced: z.boolean().optional(), belowNoise: z.boolean().optional(),
}));
const residualMap = exactly<ResidualMap>()(z.object({ cols: num, rows: num, patchPx: z.tuple([num, num]), misfitVox: z.array(real.nullable()) }));
const modelCandidates = exactly<ModelCandidates>()(z.object({
  similarity: z.object({ edsToSlab: affine2, residual: residualMap.optional() }),
  affine: z.object({ edsToSlab: affine2, residual: residualMap.optional() }).optional(),
  fields: z.object({ edsToSlab: affine2, fields: z.array(fieldCorrection), residual: residualMap.optional() }).optional(),
}));

const reportClass = exactly<ReportClass>()(z.object({ code: num, name: z.string() }));
const modalRow = exactly<ModalRow>()(z.object({ class: num, name: z.string(), voxels: num, volumePercent: real, edsPixels: num.optional(), edsAreaPercent: real.optional() }));
const modal = exactly<ModalMineralogy>()(z.object({ rows: z.array(modalRow), totalVoxels: num, unknownVoxels: num, totalEdsPixels: num.optional(), edsUnclassifiedPixels: num.optional(), edsNotMeasuredPixels: num.optional(), edsDroppedPixels: num.optional(), edsMapPixels: num.optional() }));
const depth = exactly<DepthProfile>()(z.object({
  classes: z.array(reportClass), depthUm: reals, binUm: real, counts: z.array(z.array(num)), fractions: z.array(reals), totals: z.array(num),
}));
const histograms = exactly<GreyHistograms>()(z.object({ lo: real, hi: real, bins: num, counts: z.record(z.number(), z.array(num)) }));

const um3 = exactly<[number, number, number]>()(tuple3(real));
const box3 = exactly<Box3>()(z.object({ start: shape3, shape: shape3 }));
const proposalClass = exactly<ProposalClass>()(z.object({ code: num, name: z.string() }));
const classFraction = exactly<ClassFraction>()(z.object({ code: num, name: z.string(), fraction: real }));
const scanProposal = exactly<ScanProposal>()(z.object({
  code: num, name: z.string(), purity: real, box: box3, startUm: um3, sizeUm: um3, centreUm: um3, fractions: z.array(classFraction),
}));
const proposeResult = exactly<ProposeResult>()(z.object({ proposals: z.array(scanProposal), fovVox: shape3, absent: z.array(proposalClass), cellVox: num }));
const fovUm = exactly<[number, number, number]>()(tuple3(num));

// ---------------------------------------------------------------- rows that exist only here

const labelCounts = z.object({
  /** what the counts depend on (train-model labelCountsKey) */
  key: z.string(),
  /** labelled surface voxels per class code */
  counts: z.record(z.number(), num),
  /** voxels at mineral boundaries (soft labels) */
  boundary: num,
});
/** Artifact 'labelCounts': the labelled-voxel counts of the accepted registration (train-prepare job). */
export type LabelCountsRow = z.infer<typeof labelCounts>;

const trainPrepareJob = z.object({ id: z.string(), key: z.string() });
/** Artifact 'trainPrepareJob': the project's latest train-prepare job and the inputs it prepares. */
export type PrepareRow = z.infer<typeof trainPrepareJob>;

const predictionRun = z.object({ modelCreatedAt: num, volumeId: z.string() });
/** Artifact 'predictionRun': the model and volume the files in prediction/ belong to (an interrupted run resumes). */
export type PredictionRun = z.infer<typeof predictionRun>;

const resultsStatsJob = z.object({ jobId: z.string(), predictionCreatedAt: num });
/** Artifact 'resultsStatsJob': the statistics job of a prediction. */
export type ResultsStatsJobRef = z.infer<typeof resultsStatsJob>;

const inputs = z.object({ volumeId: z.string().optional(), edsId: z.string().optional() });
/** Artifact 'inputs': the volume and EDS map the user picked (default: the first ready ones). */
export type ProjectInputsRow = z.infer<typeof inputs>;

const refusedMaps = z.record(z.string(), z.object({ face: z.literal('bottom'), reason: z.string(), at: num }));
/**
 * Artifact 'refusedMaps' (issue 15 §1): EDS maps (dataset id) whose automatic registration on the
 * bottom face was refused (lib's words): such a map is not the project's bottom map, the one
 * before it stays. Marking the map as the bottom face again (datasets.setFace) clears it.
 */
export type RefusedMapsRow = z.infer<typeof refusedMaps>;

const classMap = z.record(z.number(), num.nullable());
/** Artifact 'classMap': EDS phase id -> class code the user chose (null = drop); phases not in it take the default. */
export type ClassMapRow = z.infer<typeof classMap>;

const eraseClassJob = z.object({ jobId: z.string(), code: num, name: z.string() });
/** Artifact 'eraseClassJob': the job erasing the strokes of a deleted class (painting waits while it runs). */
export type EraseClassRow = z.infer<typeof eraseClassJob>;

const scanProposalsJob = z.object({ jobId: z.string(), key: z.string(), fovUm });
/** Artifact 'scanProposalsJob': the latest scan-proposals job and what it computes from (pipeline/annotate-jobs.ts proposalsKey). */
export type ProposalsJobRow = z.infer<typeof scanProposalsJob>;

const registrationRecord = exactly<RegistrationRecord>()(z.object({
  volumeId: z.string(),
  edsId: z.string(),
  edsToSlab: affine2,
  edsToVoxel: affine2to3,
  slabToVoxel: affine2to3,
  surface: surfaceOut,
  quality: z.union([landmarkQuality, registrationQuality]),
  landmarks: z.array(z.object({ eds: px, slab: px })),
  source: z.enum(['landmarks', 'auto']),
  accepted: z.boolean(),
  overlayChecked: z.boolean().optional(),
  truthError: z.object({ meanVox: real, maxVox: real }).optional(),
  createdAt: num,
  overlay: z.object({ id: num, width: num, height: num }).optional(),
  model: registrationModel.optional(),
  modelChoice: modelChoice.optional(),
  fields: z.array(fieldCorrection).optional(),
  residual: residualMap.optional(),
  candidates: modelCandidates.optional(),
  pixelSize: z.object({ usedUm: real, givenUm: real }).optional(),
}));

// ---------------------------------------------------------------- the keys

export const PROJECT_STATE = {
  /** Correlate: the registration of the (top face's) EDS map to the volume (pipeline/correlate.ts) */
  registration: registrationRecord,
  /** Correlate, issue 15 §1: the registration of the bottom face's EDS map (edsToVoxel in the volume's voxels; slab, surface and edsToSlab in the volume turned upside down) */
  bottomRegistration: registrationRecord,
  classMap,
  refusedMaps,
  inputs,
  /** the project's class list (mineralogy: edited colours; lithology: the painted classes) */
  classes: z.array(classDef),
  featureSet,
  featureThroughput: exactly<FeatureThroughput>()(z.object({ unitsPerSec: real, measuredAt: num })),
  labelCounts,
  trainPrepareJob,
  /** the latest training job's id */
  trainJob: z.string(),
  /** the epochs of the running (or last) training, for the live curves */
  trainHistory: exactly<LiveHistory>()(z.object({ jobId: z.string(), epochs: z.array(epochInfo), maxEpochs: num.nullable() })),
  /** the trained model: the switch that names its folder (pipeline/train-model.ts) */
  model: exactly<ModelSummary>()(z.object({
    createdAt: num,
    jobId: z.string(),
    features: z.array(z.string()),
    featureSet,
    classes: z.array(num),
    hidden: z.array(num),
    bestEpoch: num,
    history: z.array(epochInfo),
    validation,
    counts: z.array(classCount),
    labelledVoxels: num,
    mirrorSurface: surfacePlane,
    trainSeconds: real,
    modelRel: z.string().optional(),
    faces: z.array(z.enum(['top', 'bottom'])).optional(),
    quality: exactly<QualityEstimate>()(z.object({
      meanIoU: real, surfaceMeanIoU: real, depthAgreement: real, crossHalf: real, depthConfidence: real, surfaceConfidence: real, outOfRange: real, sampled: num,
      perClass: z.array(exactly<QualityClass>()(z.object({ class: num, estimate: real, surfaceIoU: real, surfaceSupport: real, depthAgreement: real, crossHalf: real, depthExpected: real, surfaceExpected: real, depthShare: real, labelShare: real }))).optional(),
    })).nullable().optional(),
    // a record that does not parse reads as unknown (as on older rows), not as a lost model row
    trainedOn: trainedOn.optional().catch(undefined),
  })),
  /** the latest whole-volume prediction job's id */
  predictJob: z.string(),
  predictionRun,
  prediction: exactly<PredictionRecord>()(z.object({ createdAt: num, modelCreatedAt: num, jobId: z.string(), classes: z.array(num), seconds: real, shape: shape3 })),
  /** the Results step's statistics of the prediction (pipeline/results-stats.ts) */
  resultsStats: exactly<StoredResultsStats>()(z.object({
    modal,
    depth,
    histograms,
    truthIoU: z.record(z.number(), real).nullable(),
    seconds: real,
    version: num,
    predictionCreatedAt: num,
    overviewRel: z.string().nullable(),
    topEdsName: z.string().optional(),
    bottomEds: z.object({ name: z.string(), modal }).optional(),
  })),
  resultsStatsJob,
  /** painting: where the painted volume of the current scan lives (pipeline/annotate.ts) */
  annotations: exactly<AnnotationsRecord>()(z.object({ volumeId: z.string(), relPath: z.string(), shape: shape3, counts: z.record(z.string(), num), updatedAt: num })),
  lithologyPrediction: exactly<LithologyPredictionRecord>()(z.object({
    volumeId: z.string(),
    relPath: z.string(),
    jobId: z.string(),
    classes: z.array(classDef),
    strokeCounts: z.record(z.string(), num),
    heldOutAccuracy: real.nullable(),
    perClass: z.array(z.object({ code: num, f1: real, support: num })),
    fractions: z.record(z.string(), real),
    createdAt: num,
  })),
  eraseClassJob,
  /** the scan proposals of a field of view, with what they were computed from (pipeline/annotate-jobs.ts) */
  scanProposals: exactly<StoredProposals>()(z.object({
    key: z.string(),
    source: z.enum(['prediction', 'strokes']),
    version: z.string(),
    fovUm,
    classes: z.array(proposalClass),
    result: proposeResult,
    jobId: z.string(),
    createdAt: num,
  })),
  scanProposalsJob,
} as const;

export type ProjectStateKey = keyof typeof PROJECT_STATE;
export type ProjectState = { [K in ProjectStateKey]: z.output<(typeof PROJECT_STATE)[K]> };

export const PROJECT_STATE_KEYS = Object.keys(PROJECT_STATE) as ProjectStateKey[];

const issues = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`).join('; ') + (e.issues.length > 3 ? `; … ${e.issues.length - 3} more` : '');

/**
 * The JSON text to store for `value` under `key`: validated as it will be read back (after the
 * JSON round trip: NaN -> null, undefined members dropped), members the schema does not know
 * dropped. Throws on a wrong shape: that is a programming error, not a user's.
 */
export function encodeProjectState<K extends ProjectStateKey>(key: K, value: ProjectState[K]): string {
  const text = JSON.stringify(value);
  const r = text === undefined ? undefined : PROJECT_STATE[key].safeParse(JSON.parse(text));
  if (!r?.success) throw new Error(`Project state '${key}' has the wrong shape and was not stored: ${r ? issues(r.error) : 'no value'}.`);
  return JSON.stringify(r.data);
}

/** The stored JSON text of `key` as its type, or the reason it cannot be read. */
export function decodeProjectState<K extends ProjectStateKey>(key: K, text: string): { ok: true; value: ProjectState[K] } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
  const r = PROJECT_STATE[key].safeParse(raw);
  return r.success ? { ok: true, value: r.data as ProjectState[K] } : { ok: false, reason: issues(r.error) };
}
