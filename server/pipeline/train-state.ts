/**
 * The Train page's state query. It only reads: what needs computing (the labelled-voxel counts
 * of the accepted registration, this machine's feature throughput) is computed by a small
 * 'train-prepare' job on the light queue, and the state says `pending` meanwhile; the page polls
 * until it is ready.
 */
import { featureNames } from '@/lib/features/plan';
import { FILTER_CHOICES, defaultScalesUm, startingFeatureSet } from '@/lib/features/choices';
import { classifierFeatureSet } from '@/lib/classify/feature-sets';
import { estimatePrediction, type FeatureEstimate } from '@/lib/classify/predict-estimate';
import type { LabelCountsRow, PrepareRow } from '../db/project-state';
import { runTask } from '../jobs/run-task';
import type { Services } from '../services';
import { mineralMap, volumeStore } from '../storage/open-stores';
import type { RegistrationRecord } from './correlate';
import { projectClasses, projectClassMap, projectDatasets } from './project-inputs';
import { switchPending } from './switch-volume-pending';
import { PREDICT_THREADS, acceptedBottomRegistration, edsLabelArgs, labelCountsKey, projectFeatureSet } from './train-model';

export type LabelCountsStatus = 'none' | 'pending' | 'ready' | 'failed';

/**
 * Start the project's train-prepare job for what is missing (unless one for the same inputs runs
 * or has failed): the label counts for `labelsKey`, and/or the feature throughput.
 */
function ensurePrepared(svc: Services, projectId: string, need: { rec?: RegistrationRecord; bottom?: RegistrationRecord; labelsKey?: string; throughputOf?: string }): { error: string | null } {
  const key = JSON.stringify([need.labelsKey ?? null, need.throughputOf ?? null]);
  const prev = svc.repo.artifact(projectId, 'trainPrepareJob');
  if (prev && prev.key === key) {
    if (svc.jobs.isActive(prev.id)) return { error: null };
    const j = svc.repo.job(prev.id);
    // failed for these very inputs: say so rather than retry on every poll
    if (j?.state === 'failed') return { error: j.error };
  }
  // inputs changed (e.g. the bottom face's registration was accepted meanwhile): the job for the old
  // ones would count labels nobody reads any more; stop it (the new job measures what it left out)
  if (prev && prev.key !== key && svc.jobs.isActive(prev.id)) svc.jobs.cancel(prev.id);
  // not while a volume switch is being finished: it moves the slab files the count reads (the next poll starts it)
  if (switchPending(svc, projectId)) return { error: null };
  const job = svc.jobs.start('train-prepare', projectId, { volumeId: need.rec?.volumeId, edsId: need.rec?.edsId }, async ({ signal, onProgress }) => {
    if (need.throughputOf) {
      onProgress(0, 'Measuring how fast this machine computes features');
      const t = await runTask('featureThroughput', { storePath: need.throughputOf }, { signal });
      svc.repo.setArtifact(projectId, 'featureThroughput', t);
    }
    if (need.rec && need.labelsKey) {
      onProgress(0.3, 'Counting the voxels the EDS map labels');
      const { edsName: _name, ...args } = await edsLabelArgs(svc, projectId, need.rec);
      const more = need.bottom ? [(({ edsName: _n, ...b }) => b)(await edsLabelArgs(svc, projectId, need.bottom, 'bottom'))] : undefined;
      const r = await runTask('labelCounts', { ...args, ...(more ? { more } : {}) }, { signal });
      svc.repo.setArtifact(projectId, 'labelCounts', { key: need.labelsKey, counts: r.counts, boundary: r.boundary } satisfies LabelCountsRow);
    }
    onProgress(1, 'Ready');
  }, 'io');
  svc.repo.setArtifact(projectId, 'trainPrepareJob', { id: job.id, key } satisfies PrepareRow);
  return { error: null };
}

export async function trainState(svc: Services, projectId: string) {
  const { volume, eds } = projectDatasets(svc, projectId);
  const store = volume ? await volumeStore(svc, volume.id) : undefined;
  const map = eds ? await mineralMap(svc, eds.id) : undefined;
  const classes = projectClasses(svc, projectId);
  const spacing = store?.meta.spacingUm ?? [1, 1, 1];
  const set = projectFeatureSet(svc, projectId, spacing);
  const throughput = svc.repo.artifact(projectId, 'featureThroughput');
  const haveThroughput = !!throughput && throughput.unitsPerSec > 0;
  const estimate: FeatureEstimate | null = store ? estimatePrediction(set, store.meta, haveThroughput ? throughput : undefined, { threads: PREDICT_THREADS }) : null;

  const rec = svc.repo.artifact(projectId, 'registration');
  const accepted = !!(rec?.accepted && volume && eds && rec.volumeId === volume.id && rec.edsId === eds.id);
  let labelCountsStatus: LabelCountsStatus = 'none';
  let labelCountsError: string | null = null;
  let cached: LabelCountsRow | undefined;
  let labelsKey: string | undefined;
  const bottom = accepted ? acceptedBottomRegistration(svc, projectId) : undefined;
  if (accepted) {
    labelsKey = labelCountsKey(svc, projectId, rec!, bottom);
    const c = svc.repo.artifact(projectId, 'labelCounts');
    cached = c && c.key === labelsKey ? c : undefined;
    labelCountsStatus = cached ? 'ready' : 'pending';
  }
  const throughputOf = store && !haveThroughput ? svc.ws.abs(volume!.relPath) : undefined;
  if (labelCountsStatus === 'pending' || throughputOf) {
    const { error } = ensurePrepared(svc, projectId, { rec: labelCountsStatus === 'pending' ? rec! : undefined, bottom, labelsKey: labelCountsStatus === 'pending' ? labelsKey : undefined, throughputOf });
    if (error && labelCountsStatus === 'pending') (labelCountsStatus = 'failed'), (labelCountsError = error);
  }
  const labelCounts = cached ? classes.map((c) => ({ code: c.code, name: c.name, voxels: cached!.counts[c.code] ?? 0 })) : [];

  const job = (key: 'trainJob' | 'predictJob') => {
    const id = svc.repo.artifact(projectId, key);
    const j = id ? svc.repo.job(id) : undefined;
    return j ? { id: j.id, state: j.state, progress: j.progress, message: j.message, error: j.error } : null;
  };
  const summary = svc.repo.artifact(projectId, 'model');
  const pred = svc.repo.artifact(projectId, 'prediction');
  return {
    volume: volume && store ? { id: volume.id, name: volume.name, shape: store.meta.shape, spacingUm: store.meta.spacingUm, levels: store.levels } : null,
    eds: eds && map ? { id: eds.id, name: eds.name } : null,
    registrationAccepted: accepted,
    /** the faces whose maps Train takes (issue 15 §1): the top, and the bottom when its registration is accepted */
    trainFaces: accepted ? (bottom ? ['top', 'bottom'] : ['top']) as ('top' | 'bottom')[] : [],
    bottomEds: bottom ? { name: projectDatasets(svc, projectId).bottomEds?.name ?? '' } : null,
    classes,
    classMap: map ? projectClassMap(svc, projectId, map.legend) : [],
    featureSet: set,
    featureNames: store ? featureNames(set, store.meta.channels) : [],
    filters: FILTER_CHOICES.map(({ filter, label, components }) => ({ filter, label, components })),
    /** ready-made sets: fast, and lib/classify's classifier bank (the default: better held-out accuracy, ~5x the features) */
    presets: [
      { key: 'fast', label: 'Fast (7 features)', specs: startingFeatureSet(spacing).specs },
      { key: 'classifier', label: 'Recommended classifier bank', specs: classifierFeatureSet(spacing).specs },
    ],
    scalesUm: defaultScalesUm(spacing),
    /** seconds: NaN until the throughput of this machine is measured (train-prepare job) */
    estimate,
    model: summary
      ? { createdAt: new Date(summary.createdAt), features: summary.features, classes: summary.classes, hidden: summary.hidden, bestEpoch: summary.bestEpoch, history: summary.history, validation: summary.validation, counts: summary.counts, trainSeconds: summary.trainSeconds, quality: summary.quality ?? null, faces: summary.faces ?? ['top'],
        /** the volume it was trained on ({ volume: its name, volumeId, shape, spacingUm, featureVersion }); null: trained before petromap recorded it */
        trainedOn: summary.trainedOn ?? null }
      : null,
    liveHistory: svc.repo.artifact(projectId, 'trainHistory') ?? null,
    /** labelled surface voxels per class; empty unless labelCountsStatus is 'ready' */
    labelCounts,
    labelCountsStatus,
    labelCountsError,
    /** surface voxels at mineral boundaries, trained with soft labels */
    boundaryVoxels: cached?.boundary ?? 0,
    trainJob: job('trainJob'),
    predictJob: job('predictJob'),
    prediction: pred ? { createdAt: new Date(pred.createdAt), upToDate: !!summary && pred.modelCreatedAt === summary.createdAt, seconds: pred.seconds } : null,
  };
}
