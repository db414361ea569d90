/**
 * Turning an uploaded file into a dataset: unpack it when it is a zip (unzip.ts: checked and
 * streamed), import into the dataset's folder (the importers write to a temp name and rename),
 * then record it in SQLite. The file side (importDatasetFiles) runs in the import job's worker
 * thread (import-job.ts); the row is written by the job. A failed import leaves no row and no
 * folder; what was stored before is untouched.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidInput, isPetromapError, type StageOptions } from '@/lib/errors';
import { limitsFromEnv, type Limits } from '@/lib/limits';
import { isZarrFolder } from '@/lib/volume/formats-node';
import { describeVolumeFile, importVolume } from '@/lib/volume/import-node';
import { openVolume } from '@/lib/volume/zarr-store-node';
import type { VolumeMeta } from '@/lib/volume/types';
import { importMineralMap } from '@/lib/eds/import-node';
import { phaseAreas } from '@/lib/eds/minor-phases';
import { saveMineralMap } from '@/lib/eds/store-node';
import { listTimaDatasets, type TimaDatasetInfo } from '@/lib/eds/tima-datasets-node';
import type { MineralMap } from '@/lib/eds/types';
import { notMeasuredFraction, unclassifiedFraction } from '@/lib/eds/types';
import { newId, type DatasetRecord, type Repo } from '../db/repo';
import type { EdsInfoOut, VolumeInfoOut } from '../routers/datasets';
import type { Workspace } from './workspace';
import { unzipToDir } from './unzip';
import { DATASET_MARKER } from './sweep';

export { unzipToDir } from './unzip';

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue; // macOS '._slice_1.tif' resource forks, .DS_Store
    const p = path.join(/*turbopackIgnore: true*/ dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

const VOLUME_EXT = /\.(tiff?|nrrd|nhdr|mha|mhd|nii|nii\.gz|txm|txrm|raw|png|bmp)$/i;

/** What to hand the volume importer for an unpacked zip: one volume file, or a folder of slices. */
/** The shallowest folder of an unpacked zip that is the root of a Zarr hierarchy (an OME-Zarr image), if any. */
async function zarrRootIn(dir: string, depth = 0): Promise<string | undefined> {
  if (await isZarrFolder(dir)) return dir;
  if (depth >= 3) return undefined;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name === '__MACOSX') continue;
    const found = await zarrRootIn(path.join(/*turbopackIgnore: true*/ dir, e.name), depth + 1);
    if (found) return found;
  }
  return undefined;
}

async function volumeSourceInZip(dir: string, name: string): Promise<string | string[]> {
  const zarrRoot = await zarrRootIn(dir);
  if (zarrRoot) return zarrRoot;
  const files = (await listFiles(dir)).filter((f) => VOLUME_EXT.test(f));
  const headers = files.filter((f) => /\.(mhd|nhdr)$/i.test(f));
  if (headers.length === 1) return headers[0];
  // slice_2 before slice_10: the order of the numbers in the names, not of their characters
  const tiffs = files.filter((f) => /\.tiff?$/i.test(f)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (tiffs.length > 1) return tiffs;
  // PNG or BMP slices (SkyScan NRecon, Dragonfly, Avizo): the importer reads a SkyScan log beside them
  const images = files.filter((f) => /\.(png|bmp)$/i.test(f)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (images.length > 1) return images;
  const vols = files.filter((f) => !/\.(raw|png|bmp)$/i.test(f));
  if (vols.length === 1) return vols[0];
  throw invalidInput(`${name}: could not tell which volume to import in the zip (found ${files.length ? files.map((f) => path.basename(f)).slice(0, 6).join(', ') : 'no volume files'}). Zip one volume file, an .mhd with its .raw, a folder of TIFF, PNG or BMP slices, or an OME-Zarr folder.`);
}

export async function volumeInfo(storePath: string, meta?: VolumeMeta): Promise<VolumeInfoOut> {
  const store = await openVolume(storePath);
  return { meta: meta ?? store.meta, levels: store.levels };
}

export function edsInfo(map: MineralMap): EdsInfoOut {
  return {
    width: map.width,
    height: map.height,
    pixelSizeUm: map.pixelSizeUm,
    legend: phaseAreas(map).map((p) => ({ id: p.id, name: p.name, color: p.color, areaFraction: p.areaFraction, pixels: p.pixels })),
    unclassifiedFraction: unclassifiedFraction(map),
    notMeasuredFraction: notMeasuredFraction(map),
    ...(map.sampleName ? { sampleName: map.sampleName } : {}),
    companions: map.companions.map((c) => c.name),
  };
}

/** A TIMA dataset as the picker dialog shows it (no paths). */
export type TimaChoice = Pick<TimaDatasetInfo, 'id' | 'label' | 'sampleName' | 'survey' | 'jobName' | 'startDate' | 'fields' | 'fieldWidthPx' | 'fieldHeightPx' | 'pixelSizeUm'>;

const timaChoice = (d: TimaDatasetInfo): TimaChoice => ({
  id: d.id, label: d.label, sampleName: d.sampleName, survey: d.survey, jobName: d.jobName, startDate: d.startDate,
  fields: d.fields, fieldWidthPx: d.fieldWidthPx, fieldHeightPx: d.fieldHeightPx, pixelSizeUm: d.pixelSizeUm,
});


export interface ImportFilesArgs {
  kind: 'volume' | 'eds';
  /** the user's file name (messages, display name) */
  name: string;
  /** the uploaded file (keeps the user's extension) */
  file: string;
  /** the new dataset's folder (must not exist yet); removed again when the import fails */
  datasetDir: string;
  /** where a zip is unpacked (must not exist yet); always removed afterwards */
  unpackDir: string;
  spacingUm?: [number, number, number];
  pixelSizeUm?: number;
  /** an EDS zip holding a TIMA project with several datasets: the one to import (id or sample name) */
  dataset?: string;
  /** budgets (default: the environment's, lib/limits) */
  limits?: Limits;
}

export type ImportFilesResult =
  | {
      /** path of the stored dataset inside datasetDir ('volume.ome.zarr' or 'eds') */
      inner: string;
      info: VolumeInfoOut | EdsInfoOut;
      /** the name the dataset is shown by when the files give one (a TIMA sample name) */
      displayName?: string;
      pick?: undefined;
    }
  | {
      /** a TIMA project with several datasets and no `dataset` chosen: nothing was imported, the user picks one */
      pick: TimaChoice[];
      inner?: undefined;
    };

/**
 * The file side of an import, no database: unpack (a zip), import into `datasetDir`, return what
 * the dataset row needs. An EDS zip holding a TIMA project with several datasets and no
 * `dataset` chosen imports nothing and returns `{ pick }`: the datasets to choose from. Runs in the import job's worker thread (server/jobs/tasks.ts). A failure
 * leaves neither `datasetDir` nor `unpackDir`.
 */
export async function importDatasetFiles(a: ImportFilesArgs, opts: StageOptions = {}): Promise<ImportFilesResult> {
  const limits = a.limits ?? limitsFromEnv();
  const { name } = a;
  const isZip = /\.zip$/i.test(a.file);
  const unzipShare = isZip ? 0.3 : 0;
  const unpack = async () => {
    await unzipToDir(a.file, a.unpackDir, name, { limits, signal: opts.signal, onProgress: (f, m) => opts.onProgress?.(unzipShare * f, m) });
  };
  const rest = (f: number, m?: string) => opts.onProgress?.(unzipShare + (1 - unzipShare) * f, m);
  let made = false;
  try {
    if (a.kind === 'eds' && !isZip) {
      if (/\.(png|tiff?)$/i.test(a.file)) {
        throw invalidInput(`${name}: a mineral map image needs its legend. Upload a .zip holding the map image, its legend (legend.csv with name,r,g,b per mineral) and optionally bse.png, or a zipped TESCAN TIMA export.`);
      }
      throw invalidInput(`${name}: unknown EDS map format. Upload a .zip holding a map image + legend.csv, or a zipped TESCAN TIMA export folder.`);
    }
    await mkdir(path.dirname(a.datasetDir), { recursive: true });
    await mkdir(a.datasetDir);
    made = true;
    await writeFile(path.join(/*turbopackIgnore: true*/ a.datasetDir, DATASET_MARKER), JSON.stringify({ writtenBy: 'petromap', kind: a.kind, name, startedAt: new Date().toISOString() }) + '\n');
    if (a.kind === 'volume') {
      let source: string | string[] = a.file;
      if (isZip) {
        await unpack();
        source = await volumeSourceInZip(a.unpackDir, name);
      }
      const store = path.join(/*turbopackIgnore: true*/ a.datasetDir, 'volume.ome.zarr');
      // a lone uploaded header sits in the shared tmp/ folder: it may not name a data file beside it
      // (another user's upload); inside an unpacked zip it may (its folder is the upload's own)
      const meta = await importVolume(source, store, { displayName: name, spacingUm: a.spacingUm, limits, allowDetachedData: isZip, signal: opts.signal, onProgress: rest });
      // a file without a voxel size imports at 1 µm: the Data step says so (header only, read again)
      const spacingAssumed = !a.spacingUm && !(await describeVolumeFile(source, { displayName: name, limits, allowDetachedData: isZip })).spacingKnown;
      return { inner: 'volume.ome.zarr', info: { ...(await volumeInfo(store, meta)), ...(spacingAssumed ? { spacingAssumed } : {}) } };
    }
    await unpack();
    const input = await edsInputFromDir(a.unpackDir, name, a.pixelSizeUm, limits, opts.signal);
    if (input.timaDatasets && input.timaDatasets.length > 1 && !a.dataset) {
      await rm(a.datasetDir, { recursive: true, force: true });
      return { pick: input.timaDatasets.map(timaChoice) };
    }
    const map = await importMineralMap({ ...input, dataset: a.dataset }, { limits, signal: opts.signal, onProgress: rest }).catch((err: unknown) => {
      if (isPetromapError(err) && /pixel size is unknown/.test(err.message)) {
        throw invalidInput(`${name}: the EDS pixel size is unknown (the image stores none). Add a small JSON file to the zip, e.g. info.json with {"pixelSizeUm": 2.5}, giving the pixel size in µm as the EDS software reports it.`);
      }
      throw err;
    });
    map.source ??= name;
    await saveMineralMap(path.join(/*turbopackIgnore: true*/ a.datasetDir, 'eds'), map);
    return { inner: 'eds', info: edsInfo(map), displayName: map.sampleName };
  } catch (err) {
    if (made) await rm(a.datasetDir, { recursive: true, force: true });
    if (!isPetromapError(err) && (err as NodeJS.ErrnoException).code === 'ENOENT') throw invalidInput(`${name}: a file the import needed is missing (${path.basename((err as NodeJS.ErrnoException).path ?? '') || 'unknown'}).`);
    throw err;
  } finally {
    await rm(a.unpackDir, { recursive: true, force: true });
  }
}

export interface ImportCtx {
  repo: Repo;
  ws: Workspace;
}

/** In-process import + dataset row (tests, CLI). The upload route runs imports as jobs instead (import-job.ts). */
async function importInProcess(ctx: ImportCtx, kind: 'volume' | 'eds', projectId: string, name: string, tmpFile: string, opts: StageOptions & { spacingUm?: [number, number, number]; pixelSizeUm?: number; dataset?: string }): Promise<DatasetRecord> {
  const id = newId('d');
  const datasetDir = ctx.ws.datasetDir(id);
  const r = await importDatasetFiles(
    { kind, name, file: tmpFile, datasetDir, unpackDir: ctx.ws.tmpPath('unzip'), spacingUm: opts.spacingUm, pixelSizeUm: opts.pixelSizeUm, dataset: opts.dataset },
    { signal: opts.signal, onProgress: opts.onProgress },
  );
  if (r.pick) throw invalidInput(`${name} holds ${r.pick.length} TIMA datasets (${r.pick.map((d) => d.label).join(', ')}); choose one.`, { details: { timaDatasets: r.pick } });
  try {
    return ctx.repo.insertDataset({ id, projectId, name: r.displayName ?? name, kind, status: 'ready', relPath: ctx.ws.rel(path.join(/*turbopackIgnore: true*/ datasetDir, r.inner)), info: r.info });
  } catch (err) {
    await rm(datasetDir, { recursive: true, force: true });
    throw err;
  }
}

/** Import an uploaded volume file (tmpFile keeps the user's extension) as a new dataset. */
export function importVolumeDataset(ctx: ImportCtx, projectId: string, name: string, tmpFile: string, opts: StageOptions & { spacingUm?: [number, number, number] } = {}): Promise<DatasetRecord> {
  return importInProcess(ctx, 'volume', projectId, name, tmpFile, opts);
}

/** Import an uploaded EDS map (a .zip holding map + legend [+ BSE], or a TIMA export) as a new dataset. */
export function importEdsDataset(ctx: ImportCtx, projectId: string, name: string, tmpFile: string, opts: StageOptions & { pixelSizeUm?: number; dataset?: string } = {}): Promise<DatasetRecord> {
  return importInProcess(ctx, 'eds', projectId, name, tmpFile, opts);
}

async function edsInputFromDir(dir: string, name: string, pixelSizeUm: number | undefined, limits: Limits, signal?: AbortSignal) {
  const files = await listFiles(dir);
  if (files.some((f) => path.basename(f).toLowerCase() === 'measurement.xml')) {
    // a TIMA export, or a project with several: the zip's root holds the project files too
    const timaDatasets = await listTimaDatasets(dir, { limits, signal });
    if (timaDatasets.length) return { map: dir, pixelSizeUm, timaDatasets };
  }
  // Excel saves "Unicode text" as .txt (UTF-16, tab separated); a .jpg map is taken so that the importer says why it cannot be read
  const legend = files.find((f) => /legend.*\.(csv|tsv|txt|json)$/i.test(path.basename(f))) ?? files.find((f) => /\.(csv|tsv)$/i.test(f));
  const images = files.filter((f) => /\.(png|tiff?|jpe?g)$/i.test(f));
  const companionRe = /^(bse|se|[A-Z][a-z]?)(\b|_|-|\.)/;
  const bse = images.filter((f) => /^bse/i.test(path.basename(f)));
  const mapImg = images.find((f) => /(map|phase|mineral|label)/i.test(path.basename(f)) && !/^bse/i.test(path.basename(f))) ?? images.find((f) => !companionRe.test(path.basename(f)));
  if (!mapImg) throw invalidInput(`${name}: found no mineral map image (.png or .tif) in the zip. Include the map image and its legend (legend.csv: name,r,g,b).`);
  const infoJson = files.find((f) => /\.json$/i.test(f) && f !== legend);
  let px = pixelSizeUm;
  if (px === undefined && infoJson) {
    try {
      const j = JSON.parse(await readFile(infoJson, 'utf8')) as Record<string, unknown>;
      const v = j.pixelSizeUm ?? j.pixel_size_um ?? (j.eds as Record<string, unknown> | undefined)?.pixelSizeUm ?? (j.params as Record<string, unknown> | undefined)?.edsPixelUm;
      if (typeof v === 'number' && v > 0) px = v;
    } catch {
      /* not ours */
    }
  }
  return { map: mapImg, legend, pixelSizeUm: px, companions: bse.map((p) => ({ name: 'BSE', path: p })), timaDatasets: undefined };
}
