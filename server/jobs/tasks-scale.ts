/**
 * The Correlate step's "Find the EDS pixel size" job step (run in a worker thread by runTask,
 * exported from tasks.ts): lib's pixel-size search (lib/registration/scale-search.ts) on the
 * project's stored slab of one face, so that the pose it finds is in the frame the registration
 * that starts from it uses (server/pipeline/correlate-scale.ts). No server state here.
 */
import type { Affine2 } from '@/lib/coords';
import type { StageOptions } from '@/lib/errors';
import { faceView, type Face } from '@/lib/registration/face-view';
import { searchMapScale } from '@/lib/registration/scale-search';
import type { Slab, SurfaceFit } from '@/lib/registration/types';
import { slabInputs } from './tasks-correlate';

export interface ScaleSearchTaskArgs {
  /** absolute paths inside the workspace */
  storePath: string;
  mapDir: string;
  projectDir: string;
  volumeId: string;
  face?: Face;
  /** the scan's voxel size was assumed at import (named when the map is refused as too large) */
  voxelSizeAssumed?: boolean;
  /** the name the user gave the map, for lib's messages */
  mapName?: string;
}

/** What the job stores as its result (plain JSON): the search's answer and the pose at the size found. */
export interface ScaleSearchOutcome {
  givenPixelUm: number;
  pixelUm: number;
  factor: number;
  distinct: boolean;
  distinctRatio: number;
  plausible: boolean;
  scoreRatio: number;
  /** the best pose's MI and the chance level there (the registration's confidence reads them as its search's) */
  mi: number;
  chance: number;
  /** the best pose at pixelUm, EDS pixel -> slab pixel of the stored slab searched */
  edsToSlab: Affine2;
  /** the stored slab's plane the pose belongs to: a slab found again since is another frame */
  surface: { a: number; b: number; c: number };
  skippedPixelUm: number[];
}

export async function correlateScaleSearch(a: ScaleSearchTaskArgs, opts: StageOptions): Promise<ScaleSearchOutcome> {
  const face = a.face ?? 'top';
  const { s, store, map } = await slabInputs(a, face);
  const slab: Slab = { width: s.width, height: s.height, data: s.data, slabToVoxel: s.slabToVoxel, normal: s.normal, sampleDepthsVox: s.sampleDepthsVox };
  const r = await searchMapScale(faceView(store, face), map, {
    surface: s.surface as SurfaceFit, extractedSlab: slab, voxelSizeAssumed: a.voxelSizeAssumed, signal: opts.signal, onProgress: opts.onProgress,
  });
  return {
    givenPixelUm: r.givenPixelUm, pixelUm: r.pixelUm, factor: r.factor, distinct: r.distinct, distinctRatio: r.distinctRatio, plausible: r.plausible, scoreRatio: r.scoreRatio,
    mi: r.mi, chance: r.chance, edsToSlab: r.edsToSlab, surface: { a: s.surface.a, b: s.surface.b, c: s.surface.c }, skippedPixelUm: r.skipped.map((k) => k * r.givenPixelUm),
  };
}
