/**
 * Annotate (lithology) job steps, run in a worker thread by runTask and exported from tasks.ts:
 * erasing a deleted class from the painted volume, and the scan-location proposals on the
 * predicted map or the strokes. Plain JSON arguments (absolute workspace paths, parameters); no
 * server state here: no database, no Next.
 */
import type { StageOptions } from '@/lib/errors';
import { fovUmToVox, proposeScanLocations, type ProposalClass, type ProposeResult } from '@/lib/report/proposals';
import { replaceLabel } from '@/lib/volume/relabel-node';
import { openVolume } from '@/lib/volume/zarr-store-node';

/** what a task receives besides its arguments (as tasks.ts TaskOptions; not imported: tasks.ts re-exports this module) */
type TaskOptions = StageOptions & { onEvent?: (e: unknown) => void };

export interface EraseCodeArgs {
  /** absolute path of the painted volume (uint8 codes) */
  storePath: string;
  code: number;
}

/**
 * Set every voxel of `code` to 0 (unlabelled). Events { erased } after each stored row of chunks;
 * returns the voxels erased and the exact painted voxels per code afterwards.
 */
export async function eraseAnnotationCode(a: EraseCodeArgs, opts: TaskOptions): Promise<{ erased: number; counts: Record<string, number> }> {
  const store = await openVolume(a.storePath);
  const r = await replaceLabel(store, a.code, 0, { signal: opts.signal, onProgress: opts.onProgress, onWritten: (erased) => opts.onEvent?.({ erased }) });
  const counts: Record<string, number> = {};
  for (let c = 1; c < 256; c++) if (r.counts[c]) counts[c] = r.counts[c]!;
  return { erased: r.replaced, counts };
}

export interface ProposalsTaskArgs {
  /** absolute path of the label volume: the predicted lithology map or the painted strokes */
  labelsPath: string;
  classes: ProposalClass[];
  fovUm: [number, number, number];
  source: 'prediction' | 'strokes';
}

/** lib/report proposeScanLocations for a field of view in µm. */
export async function scanProposals(a: ProposalsTaskArgs, opts: StageOptions): Promise<ProposeResult> {
  const store = await openVolume(a.labelsPath);
  const fovVox = fovUmToVox(a.fovUm, store.meta.spacingUm);
  return proposeScanLocations(store, a.classes, fovVox, {
    signal: opts.signal, onProgress: opts.onProgress, source: a.source === 'prediction' ? 'the predicted lithology map' : 'the painted strokes',
  });
}
