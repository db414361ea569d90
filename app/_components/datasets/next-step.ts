/**
 * What to do next on the Data step, in one sentence with a link where the next step is another page
 * (a new user with a volume and a map in the table found no word of what comes after them).
 */
import type { DatasetRow } from './dataset-row';

export interface NextStep {
  text: string;
  /** path below the project ('correlate', 'annotate'); none when the next thing is on this page */
  step?: string;
  link?: string;
}

/** The next step of a project with these datasets, or null when there is nothing to say (no datasets yet: the empty table says it). */
export function nextStep(rows: DatasetRow[], kind: 'mineralogy' | 'lithology' | undefined, progress: { accepted?: boolean; prediction?: { upToDate: boolean } | null } = {}): NextStep | null {
  const ready = rows.filter((r) => !r.problem);
  const volume = ready.some((r) => r.kind === 'volume');
  const topMap = ready.some((r) => r.kind === 'eds' && r.face !== 'bottom' && !r.refused);
  if (!ready.length || !kind) return null;
  if (kind === 'lithology') {
    if (!volume) return { text: 'Next: upload the XRM volume of the sample (above).' };
    return { text: 'Next: paint a few strokes of each rock type on the volume\u2019s slices, then train and predict.', step: 'annotate', link: 'Annotate \u2192' };
  }
  if (!volume) return { text: 'Next: upload the XRM volume of the sample (above); the EDS map is registered onto its polished surface.' };
  if (!topMap) return { text: 'Next: upload the EDS mineral map of the sample\u2019s polished top surface (above). The minerals it shows become the training labels.' };
  if (progress.accepted && progress.prediction) {
    return progress.prediction.upToDate
      ? { text: 'The whole volume is predicted. Next: the 3D mineral map, its mineral shares and the downloads are on Results.', step: 'results', link: 'Results \u2192' }
      : { text: 'A 3D mineral map is on Results, made with an older model than the one trained since: predict again on Train for the current model.', step: 'results', link: 'Results \u2192' };
  }
  if (progress.accepted) return { text: 'The EDS map is registered and accepted. Next: train the classifier on its minerals and predict the whole volume (the 3D map then shows on Results).', step: 'train', link: 'Train \u2192' };
  return { text: 'The volume and the EDS map are in. Next: find the polished surface in the volume and register the EDS map onto it.', step: 'correlate', link: 'Correlate \u2192' };
}
