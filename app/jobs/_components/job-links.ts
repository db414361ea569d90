/**
 * Where a job's result is seen: the project step its kind belongs to (server/pipeline and
 * server/storage start them), or the dataset an import made. Pure, for the Jobs table.
 */
export interface JobLinkInput {
  kind: string;
  projectId: string | null;
  datasetId: string | null;
}

const STEP_OF_KIND: [RegExp, string, string][] = [
  [/^(slab|register|pixel-size)$/, 'correlate', 'Correlate'],
  [/^train(-prepare)?$/, 'train', 'Train'],
  [/^(predict|results-stats)$/, 'results', 'Results'],
  [/^annotate-train$/, 'results', 'Results'],
  [/^annotate-/, 'annotate', 'Annotate'],
];

/** What each kind of job does, in words (the Jobs table showed `slab`, `train-prepare`, `results-stats`). */
const JOB_TITLE: Record<string, string> = {
  demo: 'Making the demo project',
  import: 'Importing a dataset',
  slab: 'Finding the polished surface',
  register: 'Registering the EDS map',
  'pixel-size': 'Finding the EDS map\u2019s pixel size',
  'train-prepare': 'Counting the training labels',
  train: 'Training the classifier',
  predict: 'Predicting the whole volume',
  'results-stats': 'Results statistics',
  'annotate-train': 'Training on the painted classes',
  'annotate-proposals': 'Proposing high-resolution scan locations',
  'annotate-erase-class': 'Erasing a class\u2019s strokes',
  'multiscale-register': 'Registering an interior scan',
  'multiscale-pores': 'Training pore and solid',
  'multiscale-upscale': 'Measuring porosity per class',
};

/** A job's kind in words; an unknown kind with its dashes as spaces, capitalised. */
export function jobTitle(kind: string): string {
  const t = JOB_TITLE[kind] ?? kind.replace(/[-_]+/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** The link to a job's result ({ href, label }), or null for a job without a project. */
export function jobResultLink(j: JobLinkInput): { href: string; label: string } | null {
  if (!j.projectId) return null;
  const project = `/projects/${encodeURIComponent(j.projectId)}`;
  if (j.kind === 'import') return j.datasetId ? { href: `${project}/datasets/${encodeURIComponent(j.datasetId)}`, label: 'dataset' } : { href: project, label: 'datasets' };
  for (const [re, step, label] of STEP_OF_KIND) if (re.test(j.kind)) return { href: `${project}/${step}`, label };
  return { href: project, label: 'project' };
}

/** Filter values as they travel in the page's URL (?project=&state=). */
export const STATE_FILTERS = {
  '': { label: 'All states', states: [] },
  active: { label: 'Queued or running', states: ['queued', 'running'] },
  running: { label: 'Running', states: ['running'] },
  queued: { label: 'Queued', states: ['queued'] },
  done: { label: 'Done', states: ['done'] },
  failed: { label: 'Failed or interrupted', states: ['failed', 'interrupted'] },
  cancelled: { label: 'Cancelled', states: ['cancelled'] },
} as const satisfies Record<string, { label: string; states: readonly string[] }>;

export type StateFilter = keyof typeof STATE_FILTERS;

export const isStateFilter = (s: unknown): s is StateFilter => typeof s === 'string' && s in STATE_FILTERS;
