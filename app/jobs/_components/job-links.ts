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
  [/^(slab|register)$/, 'correlate', 'Correlate'],
  [/^train(-prepare)?$/, 'train', 'Train'],
  [/^(predict|results-stats)$/, 'results', 'Results'],
  [/^annotate-train$/, 'results', 'Results'],
  [/^annotate-/, 'annotate', 'Annotate'],
];

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
