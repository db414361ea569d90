/**
 * The Multi-scale step of a lithology project: high-resolution interior scans (volume datasets of
 * the project other than its scan) are placed inside the scan (from a scan proposal or a typed
 * position), registered (job 'multiscale-register', task multiscaleRegister), then measured together
 * into the composite model (job 'multiscale-upscale', task multiscaleUpscale, lib/upscale).
 * State lives in files of the project folder (each written under a temp name and renamed):
 *   projects/<id>/multiscale/state.json    MultiscaleFile (placements, registrations, job ids)
 *   projects/<id>/multiscale/views-<ds>.json  the registration's three orthogonal views
 *   projects/<id>/multiscale/run/           the latest composite model, tables and report.json
 * A registration or result is tied to the scan and the predicted map it was computed from; when
 * those change the step says so and asks to run again. No numerical code here.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { invalidInput, notFound, unprocessable } from '@/lib/errors';
import type { UpscaleResult } from '@/lib/upscale/run-upscale-node';
import { openVolume } from '@/lib/volume/zarr-store-node';
import { runTask } from '../jobs/run-task';
import { readSlice } from '../render/slice';
import type { Services } from '../services';
import { writeFileAtomic } from '../storage/atomic';
import { jobOut, poreLabelsFor, poreState } from './multiscale-pores';
import { projectDatasets } from './project-inputs';

const vec3 = z.tuple([z.number(), z.number(), z.number()]);
const affine = z.array(z.number()).length(12);
const entry = z.object({
  datasetId: z.string(),
  start: z.object({ centre: vec3, angleDeg: z.number() }),
  registration: z.object({
    scanId: z.string(),
    pose: z.object({ centre: vec3, angleDeg: z.number(), scale: vec3 }),
    hiToLow: affine,
    factor: z.number(),
    quality: z.record(z.string(), z.number().nullable()),
    /** the automatic pore/solid threshold of the whole interior (pore and grain grey peaks), for the preview */
    auto: z.object({ threshold: z.number(), lowMean: z.number(), highMean: z.number() }).nullable().default(null),
    at: z.number(),
  }).nullable(),
  registerJobId: z.string().nullable(),
  /** a pore/solid threshold the user chose (grey below = pore) instead of the automatic one per class */
  threshold: z.number().nullable().default(null),
});
const fileSchema = z.object({
  interiors: z.array(entry),
  upscaleJobId: z.string().nullable(),
  /** what the stored result was computed from */
  result: z.object({
    scanId: z.string(), predictionJobId: z.string(), at: z.number(),
    /** the interior scans it measured (absent in results computed before this was recorded) */
    interiorIds: z.array(z.string()).optional(),
  }).nullable(),
});
type MultiscaleFile = z.infer<typeof fileSchema>;
type Entry = z.infer<typeof entry>;

const EMPTY: MultiscaleFile = { interiors: [], upscaleJobId: null, result: null };

const dir = (svc: Services, projectId: string) => path.join(/*turbopackIgnore: true*/ svc.ws.projectDir(projectId), 'multiscale');
const stateFile = (svc: Services, projectId: string) => path.join(/*turbopackIgnore: true*/ dir(svc, projectId), 'state.json');
const viewsFile = (svc: Services, projectId: string, ds: string) => path.join(/*turbopackIgnore: true*/ dir(svc, projectId), `views-${ds}.json`);
export const runDir = (svc: Services, projectId: string) => path.join(/*turbopackIgnore: true*/ dir(svc, projectId), 'run');

async function load(svc: Services, projectId: string): Promise<MultiscaleFile> {
  if (!svc.repo.project(projectId)) throw notFound(`There is no project ${projectId}.`);
  const text = await readFile(stateFile(svc, projectId), 'utf8').catch(() => null);
  if (!text) return structuredClone(EMPTY);
  const r = fileSchema.safeParse(JSON.parse(text));
  return r.success ? r.data : structuredClone(EMPTY);
}
const save = (svc: Services, projectId: string, f: MultiscaleFile) => writeFileAtomic(stateFile(svc, projectId), JSON.stringify(f));

/** The project's scan and predicted lithology map (both needed before anything here). */
function inputs(svc: Services, projectId: string) {
  const p = svc.repo.project(projectId);
  if (!p) throw notFound(`There is no project ${projectId}.`);
  if (p.kind !== 'lithology') throw unprocessable('The Multi-scale step belongs to lithology projects.');
  const { volume } = projectDatasets(svc, projectId);
  const pred = svc.repo.artifact(projectId, 'lithologyPrediction');
  return { volume, pred: pred && volume && pred.volumeId === volume.id ? pred : undefined };
}

/** Everything the page shows; reads state only. */
export async function multiscaleState(svc: Services, projectId: string) {
  const { volume, pred } = inputs(svc, projectId);
  const f = await load(svc, projectId);
  const datasets = svc.repo.listDatasets(projectId).filter((d) => d.kind === 'volume' && d.status === 'ready' && d.id !== volume?.id);
  const info = (id: string) => {
    const d = svc.repo.dataset(id);
    const di = d?.info as { meta?: { shape: number[]; spacingUm: number[]; dtype?: string }; levels?: number } | null;
    const meta = di?.meta;
    return d ? { name: d.name, shape: meta?.shape ?? null, spacingUm: meta?.spacingUm ?? null, dtype: meta?.dtype ?? null, levels: di?.levels ?? 1 } : null;
  };
  const interiors = await Promise.all(f.interiors.map(async (e) => {
    const views = e.registration ? await readFile(viewsFile(svc, projectId, e.datasetId), 'utf8').then((t) => JSON.parse(t) as ViewOut[]).catch(() => null) : null;
    return {
      ...e, dataset: info(e.datasetId), registerJob: jobOut(svc, e.registerJobId), pores: await poreState(svc, projectId, e.datasetId),
      stale: !!e.registration && e.registration.scanId !== volume?.id, views,
    };
  }));
  const upscaleJob = jobOut(svc, f.upscaleJobId);
  let result: Omit<UpscaleResult, 'registrations'> | null = null;
  if (f.result) result = await readFile(path.join(/*turbopackIgnore: true*/ runDir(svc, projectId), 'report.json'), 'utf8').then((t) => JSON.parse(t)).catch(() => null);
  const classes = pred?.classes ?? [];
  return {
    scan: volume ? { id: volume.id, name: volume.name, meta: (volume.info as { meta?: unknown } | null)?.meta ?? null, levels: (volume.info as { levels?: number } | null)?.levels ?? 1 } : null,
    prediction: pred ? { jobId: pred.jobId, classes } : null,
    candidates: datasets.map((d) => ({ ...info(d.id)!, id: d.id, placed: f.interiors.some((e) => e.datasetId === d.id) })),
    proposals: storedProposals(svc, projectId, volume?.id),
    interiors, upscaleJob,
    result: result && f.result ? { ...result, stale: f.result.scanId !== volume?.id || f.result.predictionJobId !== pred?.jobId, at: f.result.at } : null,
  };
}

/**
 * The scan proposals the Annotate step stored (artifact 'scanProposals', for the last field of
 * view proposed), with each box's centre in voxels of the scan: a start position for an interior.
 */
function storedProposals(svc: Services, projectId: string, volumeId: string | undefined) {
  const st = svc.repo.artifact(projectId, 'scanProposals');
  const pred = svc.repo.artifact(projectId, 'lithologyPrediction');
  if (!st || !volumeId) return null;
  if (st.source === 'strokes' && !st.version.startsWith(`strokes ${volumeId} `)) return null; // painted on another scan
  // proposals on an earlier prediction (or on the strokes) still name places in this scan; say which
  const current = st.source === 'prediction' && !!pred && pred.volumeId === volumeId && st.version.startsWith(`prediction ${pred.jobId} `);
  return {
    fovUm: st.fovUm, source: st.source, current, createdAt: st.createdAt,
    list: st.result.proposals.map((p) => ({
      code: p.code, name: p.name, purity: p.purity, box: p.box,
      centre: p.box.start.map((s, a) => s + (p.box.shape[a]! - 1) / 2) as [number, number, number],
    })),
  };
}

export interface ViewOut { axis: string; width: number; height: number; fixed: (number | null)[]; moving: (number | null)[] }

/** Place (or move) an interior scan: its centre in voxels of the scan and its turn about z. */
export async function placeInterior(svc: Services, projectId: string, datasetId: string, start: { centre: [number, number, number]; angleDeg: number }) {
  const { volume } = inputs(svc, projectId);
  if (!volume) throw unprocessable('Import the large scan first (Data step).');
  const d = svc.repo.dataset(datasetId);
  if (!d || d.projectId !== projectId || d.kind !== 'volume' || d.status !== 'ready') throw notFound(`There is no volume dataset ${datasetId} in this project.`);
  if (d.id === volume.id) throw invalidInput(`"${d.name}" is the project's large scan; choose a high-resolution interior scan.`);
  const shape = (volume.info as { meta?: { shape?: number[] } } | null)?.meta?.shape;
  if (shape && start.centre.some((c, a) => c < -0.5 || c > shape[a]! - 0.5)) {
    throw invalidInput(`The position (z ${start.centre[0].toFixed(1)}, y ${start.centre[1].toFixed(1)}, x ${start.centre[2].toFixed(1)}) lies outside the large scan "${volume.name}" (${shape.join(' × ')} voxels, z × y × x): click inside the sample or use a scan proposal.`);
  }
  const f = await load(svc, projectId);
  const prev = f.interiors.find((x) => x.datasetId === datasetId);
  const e: Entry = { datasetId, start, registration: null, registerJobId: null, threshold: prev?.threshold ?? null };
  f.interiors = [...f.interiors.filter((x) => x.datasetId !== datasetId), e];
  await save(svc, projectId, f);
  return { ok: true };
}

/** Choose the pore/solid threshold of a placed interior (grey below it = pore); null = automatic per class. */
export async function setInteriorThreshold(svc: Services, projectId: string, datasetId: string, threshold: number | null) {
  const f = await load(svc, projectId);
  const e = f.interiors.find((x) => x.datasetId === datasetId);
  if (!e) throw notFound(`Interior scan ${datasetId} is not placed in this project: place it first.`);
  e.threshold = threshold;
  await save(svc, projectId, f);
  return { ok: true };
}

/** Whether the dataset is placed as an interior scan of the project's Multi-scale step. */
export async function isInterior(svc: Services, projectId: string, datasetId: string): Promise<boolean> {
  return (await load(svc, projectId)).interiors.some((x) => x.datasetId === datasetId);
}

export async function removeInterior(svc: Services, projectId: string, datasetId: string) {
  const f = await load(svc, projectId);
  f.interiors = f.interiors.filter((x) => x.datasetId !== datasetId);
  await save(svc, projectId, f);
  await rm(viewsFile(svc, projectId, datasetId), { force: true });
  // its painted pore/solid strokes and trained pores go with it
  await rm(path.join(/*turbopackIgnore: true*/ dir(svc, projectId), `pores-${datasetId}`), { recursive: true, force: true });
  return { ok: true };
}

/**
 * Removes the stored composite model when it was computed from volume `datasetId` (the large scan,
 * or an interior scan it measured; for results that did not record their interiors, any interior
 * registered on its scan), with its run folder: a deleted volume takes what was made from it.
 */
export async function removeResultOf(svc: Services, projectId: string, datasetId: string): Promise<boolean> {
  const f = await load(svc, projectId);
  const r = f.result;
  if (!r) return false;
  const interiors = r.interiorIds ?? f.interiors.filter((e) => e.registration?.scanId === r.scanId).map((e) => e.datasetId);
  if (r.scanId !== datasetId && !interiors.includes(datasetId)) return false;
  f.result = null;
  await save(svc, projectId, f);
  await rm(runDir(svc, projectId), { recursive: true, force: true });
  return true;
}

/** Start registering one placed interior scan. */
export async function startRegister(svc: Services, projectId: string, datasetId: string) {
  const { volume } = inputs(svc, projectId);
  if (!volume) throw unprocessable('Import the large scan first (Data step).');
  const f = await load(svc, projectId);
  const e = f.interiors.find((x) => x.datasetId === datasetId);
  const d = svc.repo.dataset(datasetId);
  if (!e || !d) throw notFound(`Interior scan ${datasetId} is not placed in this project: place it first.`);
  const job = svc.jobs.start('multiscale-register', projectId, { volumeId: volume.id, datasetId }, async ({ signal, onProgress }) => {
    const r = await runTask('multiscaleRegister', {
      volumePath: svc.ws.abs(volume.relPath), interiorPath: svc.ws.abs(d.relPath), interiorName: d.name, volumeName: volume.name, start: e.start,
    }, { signal, onProgress });
    await writeFileAtomic(viewsFile(svc, projectId, datasetId), JSON.stringify(r.views));
    const cur = await load(svc, projectId);
    const it = cur.interiors.find((x) => x.datasetId === datasetId);
    if (it) {
      it.registration = { scanId: volume.id, pose: r.pose, hiToLow: [...r.hiToLow], factor: r.factor, quality: { ...r.quality }, auto: r.auto, at: Date.now() };
      await save(svc, projectId, cur);
    }
    return { quality: r.quality };
  });
  e.registerJobId = job.id;
  await save(svc, projectId, f);
  return { jobId: job.id };
}

/** Start measuring every registered interior and building the composite model. */
export async function startUpscale(svc: Services, projectId: string) {
  const { volume, pred } = inputs(svc, projectId);
  if (!volume) throw unprocessable('Import the large scan first (Data step).');
  if (!pred) throw unprocessable('There is no predicted lithology map of this scan yet: paint the classes and press "Train and predict" on the Annotate step.');
  const f = await load(svc, projectId);
  const ready = f.interiors.filter((e) => e.registration && e.registration.scanId === volume.id);
  if (!ready.length) throw unprocessable('Register at least one interior scan first.');
  const interiors = await Promise.all(ready.map(async (e) => {
    const d = svc.repo.dataset(e.datasetId);
    if (!d) throw notFound(`Interior scan ${e.datasetId} was deleted; remove it from the list.`);
    // trained pore/solid labels when the user keeps them in use, else the threshold (theirs or automatic)
    const poreLabels = await poreLabelsFor(svc, projectId, e.datasetId);
    return { path: svc.ws.abs(d.relPath), name: d.name, hiToLow: e.registration!.hiToLow as never, threshold: poreLabels ? undefined : e.threshold ?? undefined, poreLabels };
  }));
  const classNames = Object.fromEntries(pred.classes.map((c) => [c.code, c.name]));
  const job = svc.jobs.start('multiscale-upscale', projectId, { volumeId: volume.id }, async ({ signal, onProgress, jobId }) => {
    const work = `${runDir(svc, projectId)}.tmp-${jobId}`;
    try {
      const r = await runTask('multiscaleUpscale', {
        volumePath: svc.ws.abs(volume.relPath), classesPath: svc.ws.abs(pred.relPath), classNames, interiors, outDir: work, formats: ['nrrd', 'nifti', 'tiff'],
      }, { signal, onProgress });
      // swap in the new run folder: readers see the old one or the new one
      const final = runDir(svc, projectId), old = `${final}.old-${jobId}`;
      if (existsSync(final)) await rename(final, old);
      await rename(work, final);
      await rm(old, { recursive: true, force: true });
      const cur = await load(svc, projectId);
      cur.result = { scanId: volume.id, predictionJobId: pred.jobId, at: Date.now(), interiorIds: ready.map((e) => e.datasetId) };
      await save(svc, projectId, cur);
      return { total: r.total.value, classes: r.classes.length };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
  f.upscaleJobId = job.id;
  await save(svc, projectId, f);
  return { jobId: job.id };
}

/** Files of the latest run a download may send (name → file in run/, content type). */
export const DOWNLOADS: Record<string, { file: string; type: string; folder?: boolean }> = {
  'classes.csv': { file: 'classes.csv', type: 'text/csv; charset=utf-8' },
  'depth.csv': { file: 'depth.csv', type: 'text/csv; charset=utf-8' },
  'footprints.csv': { file: 'footprints.csv', type: 'text/csv; charset=utf-8' },
  'report.json': { file: 'report.json', type: 'application/json' },
  'composite-porosity.nrrd': { file: 'composite-porosity.nrrd', type: 'application/octet-stream' },
  'composite-porosity.nii': { file: 'composite-porosity.nii', type: 'application/octet-stream' },
  'composite-porosity.tif': { file: 'composite-porosity.tif', type: 'image/tiff' },
  // the OME-Zarr store (porosity and uncertainty channels), zipped as it is sent
  'composite.ome.zarr.zip': { file: 'composite.ome.zarr', type: 'application/zip', folder: true },
};

/** Absolute path of a download of the latest run, or NotFound. */
export async function downloadPath(svc: Services, projectId: string, name: string): Promise<{ file: string; type: string; folder: boolean }> {
  // own names only: `constructor`, `__proto__`, `toString` are in every object's prototype chain
  const d = Object.hasOwn(DOWNLOADS, name) ? DOWNLOADS[name] : undefined;
  if (!d) throw notFound(`There is no multi-scale download called ${name}.`);
  const f = await load(svc, projectId);
  const file = path.join(/*turbopackIgnore: true*/ runDir(svc, projectId), d.file);
  if (!f.result || !existsSync(file)) throw notFound('There is no composite model yet: press "Measure and build the composite model" on the Multi-scale step.');
  return { file, type: d.type, folder: !!d.folder };
}

/**
 * One slice of the latest composite model, level 0: porosity then uncertainty (float32, NaN where
 * no class measurement), width × height each (rows/columns as the dataset slice route: XY y/x,
 * XZ z/x, YZ z/y). NotFound before the first run.
 */
export async function compositeSlice(svc: Services, projectId: string, axis: 'z' | 'y' | 'x', index: number) {
  const f = await load(svc, projectId);
  const file = path.join(/*turbopackIgnore: true*/ runDir(svc, projectId), 'composite.ome.zarr');
  if (!f.result || !existsSync(file)) throw notFound('There is no composite model yet: press "Measure and build the composite model" on the Multi-scale step.');
  // opened per request: a new run swaps the folder
  const store = await openVolume(file);
  const por = await readSlice(store, { axis, index, level: 0, channel: 0 });
  const unc = await readSlice(store, { axis, index, level: 0, channel: 1 });
  const out = new Float32Array(2 * por.data.length);
  out.set(por.data as Float32Array, 0);
  out.set(unc.data as Float32Array, por.data.length);
  return { data: out, width: por.width, height: por.height };
}
