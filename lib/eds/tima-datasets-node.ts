/**
 * The TIMA datasets a folder holds: a single export (measurement.xml in the folder itself) or a
 * project export with several dataset folders (each with its measurement.xml, usually named by
 * GUID), plus the project files that name the samples (./tima-project.ts). Node only.
 *
 * The walk is bounded (depth, folders visited, datasets listed), follows no links and never
 * descends into a dataset folder (its field folders can number thousands); XML files above
 * `limits.maxXmlBytes` are not read. Paths in the result are relative to the root and come from
 * the walk itself, so they cannot leave it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { invalidInput, throwIfAborted, type StageOptions } from '../errors';
import { DEFAULT_LIMITS, formatBytes, LIMIT_ENV, type Limits } from '../limits';
import { clip } from './legend';
import { countElements, normaliseGuid, parseTimaMeasurement } from './tima';
import { findTimaProjectEntry, parseTimaProjectData, parseTimaProjectStruct, parseTimaSurveys, timaProjectEntries, type TimaProjectEntry } from './tima-project';

export interface TimaDatasetInfo {
  /** what to pick it by: the dataset folder's name (a GUID in TIMA exports), or the root's for a single export */
  id: string;
  /** folder relative to the root, '/'-separated ('.' = the root itself) */
  path: string;
  /** replicate caption from the project files */
  sampleName?: string;
  survey?: string;
  jobName?: string;
  analysisType?: string;
  startDate?: string;
  /** fields listed in fields.xml (0 when it is missing or too large to count) */
  fields: number;
  fieldWidthPx: number;
  fieldHeightPx: number;
  pixelSizeUm: number;
  /** how the dataset is shown: the sample name (with the job when two share it), else the id */
  label: string;
}

/** Deepest folder (below the root) searched for datasets and project files. */
const MAX_DEPTH = 4;
const MAX_DIRS = 5000;
/** More datasets than this in one upload are refused (a picker list stays readable well below). */
export const MAX_TIMA_DATASETS = 500;

const PROJECT_DATA = /\.timaproj\.data$/i;
const PROJECT_STRUCT = /\.timaproj\.struct$/i;
const SURVEYS_DIR = /\.timaproj\.Surveys$/i;

async function readXml(path: string, limits: Limits): Promise<string | undefined> {
  const st = await stat(/*turbopackIgnore: true*/ path).catch(() => null);
  if (!st?.isFile() || st.size > limits.maxXmlBytes) return undefined;
  return readFile(/*turbopackIgnore: true*/ path, 'utf8');
}

interface Walk {
  datasets: string[];
  projectFiles: { dir: string; data?: string; struct?: string }[];
  surveys: string[];
}

async function walk(root: string, signal?: AbortSignal): Promise<Walk> {
  const out: Walk = { datasets: [], projectFiles: [], surveys: [] };
  let visited = 0;
  const queue: { dir: string; depth: number }[] = [{ dir: root, depth: 0 }];
  while (queue.length) {
    throwIfAborted(signal);
    const { dir, depth } = queue.shift()!;
    if (++visited > MAX_DIRS) break;
    const entries = await readdir(/*turbopackIgnore: true*/ dir, { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.isFile() && e.name.toLowerCase() === 'measurement.xml')) {
      out.datasets.push(dir);
      if (out.datasets.length > MAX_TIMA_DATASETS) break;
      continue;
    }
    const pf: Walk['projectFiles'][number] = { dir };
    for (const e of entries) {
      if (e.isFile() && PROJECT_DATA.test(e.name)) pf.data = join(/*turbopackIgnore: true*/ dir, e.name);
      else if (e.isFile() && PROJECT_STRUCT.test(e.name)) pf.struct = join(/*turbopackIgnore: true*/ dir, e.name);
      else if (e.isDirectory() && SURVEYS_DIR.test(e.name)) out.surveys.push(join(/*turbopackIgnore: true*/ dir, e.name, 'Surveys.xml'));
      else if (e.isDirectory() && depth < MAX_DEPTH && !e.name.startsWith('.') && e.name !== '__MACOSX') queue.push({ dir: join(/*turbopackIgnore: true*/ dir, e.name), depth: depth + 1 });
    }
    if (pf.data || pf.struct) out.projectFiles.push(pf);
  }
  out.datasets.sort();
  return out;
}

async function projectEntries(w: Walk, limits: Limits): Promise<TimaProjectEntry[]> {
  const out: TimaProjectEntry[] = [];
  // project files are a convenience: a damaged one leaves the samples unnamed rather than failing the import
  for (const pf of w.projectFiles) {
    try {
      const data = pf.data ? await readXml(pf.data, limits) : undefined;
      if (!data) continue;
      const struct = pf.struct ? await readXml(pf.struct, limits) : undefined;
      out.push(...timaProjectEntries(parseTimaProjectData(data, basename(pf.data!)), struct ? parseTimaProjectStruct(struct, basename(pf.struct!)) : new Map()));
    } catch {
      /* unnamed */
    }
  }
  for (const s of w.surveys) {
    try {
      const xml = await readXml(s, limits);
      if (xml) out.push(...parseTimaSurveys(xml, 'Surveys.xml'));
    } catch {
      /* unnamed */
    }
  }
  return out;
}

/**
 * Lists the TIMA datasets under `root` (the root itself when it holds measurement.xml), with the
 * sample names the project files give. An empty list means: no TIMA export here.
 */
export async function listTimaDatasets(root: string, opts: StageOptions & { limits?: Limits } = {}): Promise<TimaDatasetInfo[]> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const w = await walk(root, opts.signal);
  if (w.datasets.length > MAX_TIMA_DATASETS) {
    throw invalidInput(`${clip(basename(root), 80)} holds more than ${MAX_TIMA_DATASETS} TIMA datasets; export or zip fewer at a time.`);
  }
  const entries = await projectEntries(w, limits);
  const list: Omit<TimaDatasetInfo, 'label'>[] = [];
  for (const dir of w.datasets) {
    throwIfAborted(opts.signal);
    const rel = relative(/*turbopackIgnore: true*/ root, dir).split(sep).join('/') || '.';
    const folder = rel === '.' ? basename(root) : basename(dir);
    const shownDir = clip(rel === '.' ? folder : rel, 60);
    const mPath = join(/*turbopackIgnore: true*/ dir, 'measurement.xml');
    const mSize = (await stat(/*turbopackIgnore: true*/ mPath)).size;
    if (mSize > limits.maxXmlBytes) {
      throw invalidInput(`TIMA export ${shownDir}: measurement.xml is ${formatBytes(mSize)}, more than the ${formatBytes(limits.maxXmlBytes)} petromap reads (${LIMIT_ENV.maxXmlBytes.name}).`);
    }
    const xml = await readFile(/*turbopackIgnore: true*/ mPath, 'utf8');
    if (!xml.trim()) throw invalidInput(`TIMA export ${shownDir}: measurement.xml is empty.`);
    const m = parseTimaMeasurement(xml, `${shownDir}/measurement.xml`);
    const fieldsXml = await readXml(join(/*turbopackIgnore: true*/ dir, 'fields.xml'), limits);
    const fields = fieldsXml ? countElements(fieldsXml, 'Field', limits.maxTimaFields) : 0;
    const e = findTimaProjectEntry(entries, folder, m.id);
    list.push({
      id: clip(folder, 80),
      path: rel,
      sampleName: e?.sampleName,
      survey: e?.survey,
      jobName: e?.jobName,
      analysisType: e?.analysisType,
      startDate: m.startDate,
      fields,
      fieldWidthPx: m.imageWidth,
      fieldHeightPx: m.imageHeight,
      pixelSizeUm: m.viewFieldUm / m.imageWidth,
    });
  }
  return withLabels(list);
}

function withLabels(list: Omit<TimaDatasetInfo, 'label'>[]): TimaDatasetInfo[] {
  const bySample = new Map<string, number>();
  for (const d of list) if (d.sampleName) bySample.set(d.sampleName.toLowerCase(), (bySample.get(d.sampleName.toLowerCase()) ?? 0) + 1);
  const labelled = list.map((d) => {
    const shared = d.sampleName && bySample.get(d.sampleName.toLowerCase())! > 1;
    const label = !d.sampleName ? d.id : shared ? `${d.sampleName} · ${d.jobName ?? d.id.slice(0, 8)}` : d.sampleName;
    return { ...d, label };
  });
  // two datasets of one sample with the same job name: the id tells them apart
  const seen = new Map<string, number>();
  for (const d of labelled) seen.set(d.label.toLowerCase(), (seen.get(d.label.toLowerCase()) ?? 0) + 1);
  return labelled.map((d) => (seen.get(d.label.toLowerCase())! > 1 ? { ...d, label: `${d.label} · ${d.id.slice(0, 8)}` } : d));
}

/** One line per dataset for messages: `STA-107B (1ff0813f…)`. */
export function describeTimaDatasets(list: TimaDatasetInfo[], max = 12): string {
  const one = (d: TimaDatasetInfo) => (d.label === d.id ? d.id : `${d.label} (${d.id.length > 12 ? `${d.id.slice(0, 8)}…` : d.id})`);
  return list.slice(0, max).map(one).join(', ') + (list.length > max ? `, and ${list.length - max} more` : '');
}

/**
 * The dataset `key` names: its id (GUID, braces and case ignored, or a unique prefix of 4+
 * characters), its sample name or label (case ignored), or its folder path. Throws InvalidInput
 * listing the datasets when none or several match.
 */
export function pickTimaDataset(list: TimaDatasetInfo[], key: string, where: string): TimaDatasetInfo {
  const k = key.trim().toLowerCase();
  const g = normaliseGuid(key);
  const tiers: ((d: TimaDatasetInfo) => boolean)[] = [
    (d) => normaliseGuid(d.id) === g || d.path.toLowerCase() === k,
    (d) => d.label.toLowerCase() === k,
    (d) => d.sampleName?.toLowerCase() === k,
    (d) => k.length >= 4 && normaliseGuid(d.id).startsWith(g),
  ];
  for (const t of tiers) {
    const hits = list.filter(t);
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw invalidInput(`${where}: "${clip(key)}" matches ${hits.length} TIMA datasets: ${describeTimaDatasets(hits)}. Choose one by its id.`, { details: { timaDatasets: hits } });
    }
  }
  throw invalidInput(`${where} holds no TIMA dataset "${clip(key)}"; it holds ${describeTimaDatasets(list)}.`, { details: { timaDatasets: list } });
}
