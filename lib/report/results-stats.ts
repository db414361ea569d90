/**
 * Summary statistics of a predicted label volume (the Results step): modal mineralogy next to the
 * EDS areas, the depth profile, grey-value histograms of the scan per predicted class and, for a
 * synthetic sample, the per-class IoU against its truth. Every pass streams the volumes brick by
 * brick (never a whole volume in memory) and checks `signal` between bricks.
 */
import { throwIfAborted, type OnProgress, type StageOptions } from '../errors';
import type { SurfacePlane } from '../classify/mirror';
import type { MineralMap } from '../eds/types';
import type { ClassMap } from '../registration/transfer-labels';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';
import { depthProfile, type DepthProfile } from './depth';
import { labelCensus } from './label-census';
import { modalMineralogy, type ModalMineralogy, type ReportClass } from './modal';

/** Grey-value histograms of the scan, one per predicted class: `counts[code][bin]`, bins of equal width over [lo, hi). */
export interface GreyHistograms {
  lo: number;
  hi: number;
  bins: number;
  counts: Record<number, number[]>;
}

export interface ResultsStats {
  /** volume % below the surface next to the EDS area % of the same classes */
  modal: ModalMineralogy;
  /** class fractions per depth below the surface */
  depth: DepthProfile;
  histograms: GreyHistograms;
  /** per-class IoU vs a truth volume (voxels where the truth is 0 are not scored); null without truth */
  truthIoU: Record<number, number> | null;
  seconds: number;
}

export interface ResultsStatsInput {
  /** predicted class codes (uint8, 0 = no label) */
  labels: VolumeStore;
  /** the scan the labels were predicted from (channel 0 is histogrammed), same shape */
  scan: VolumeStore;
  /** true class codes of a synthetic sample, same shape */
  truth?: VolumeStore;
  /** the classes to report (code 0 is ignored) */
  classes: ReportClass[];
  /** the polished surface; only voxels below it count in the modal mineralogy and depth profile */
  surface: SurfacePlane;
  map?: MineralMap;
  /** EDS phase id -> class code (with `map`) */
  classMap?: ClassMap;
}

export interface ResultsStatsOptions extends StageOptions {
  /** histogram bins (default 96) */
  bins?: number;
  /** depth bins over the sample's thickness below the surface (default about 60) */
  depthBinsMax?: number;
  /** brick read at a time (default 64³) */
  brick?: Shape3;
}

export const HISTOGRAM_BINS = 96;
export const DEPTH_BINS_MAX = 60;
const BRICK: Shape3 = [64, 64, 64];

/** The boxes of a brick grid over `shape`, z-major (edge bricks are smaller). */
export function* brickBoxes(shape: readonly number[], brick: Shape3 = BRICK): Generator<Box3> {
  for (let z = 0; z < shape[0]; z += brick[0]) for (let y = 0; y < shape[1]; y += brick[1]) for (let x = 0; x < shape[2]; x += brick[2]) {
    yield { start: [z, y, x], shape: [Math.min(brick[0], shape[0] - z), Math.min(brick[1], shape[1] - y), Math.min(brick[2], shape[2] - x)] };
  }
}

const brickCount = (shape: readonly number[], b: Shape3) => Math.ceil(shape[0] / b[0]) * Math.ceil(shape[1] / b[1]) * Math.ceil(shape[2] / b[2]);

function sameShape(a: VolumeStore, b: VolumeStore, what: string) {
  if (a.meta.shape.some((n, i) => n !== b.meta.shape[i])) {
    throw new RangeError(`${what} (${b.meta.shape.join(' x ')}) does not have the shape of the labels (${a.meta.shape.join(' x ')}).`);
  }
}

/** Sub-range progress: maps [0, 1] of a step onto [from, to] of the whole. */
const part = (p: OnProgress | undefined, from: number, to: number): OnProgress | undefined => (p ? (f, m) => p(from + (to - from) * f, m) : undefined);

/**
 * Grey range [lo, hi) of channel 0 over the whole scan (every voxel: rare bright minerals such as
 * pyrite must not pile up in a clipped last bin); hi is nudged up so that the maximum falls inside.
 */
export async function greyRange(scan: VolumeStore, opts: StageOptions & { brick?: Shape3 } = {}): Promise<{ lo: number; hi: number }> {
  const brick = opts.brick ?? BRICK;
  const n = brickCount(scan.meta.shape, brick);
  let lo = Infinity, hi = -Infinity, k = 0;
  for (const box of brickBoxes(scan.meta.shape, brick)) {
    throwIfAborted(opts.signal);
    const g = await scan.readBlock(box, { signal: opts.signal });
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    opts.onProgress?.(++k / n, `grey range: brick ${k} of ${n}`);
  }
  if (!Number.isFinite(lo)) (lo = 0), (hi = 1);
  if (!(hi > lo)) hi = lo + 1;
  return { lo, hi: hi + (hi - lo) * 1e-6 };
}

interface HistIouOptions extends StageOptions {
  brick?: Shape3;
  /** histogram over [lo, hi) in `bins` bins; no histogram without it */
  range?: { lo: number; hi: number; bins: number };
}

/** One pass over labels (+ scan, + truth): grey histograms per class and IoU counts vs the truth. */
async function histogramsAndIoU(labels: VolumeStore, scan: VolumeStore | undefined, truth: VolumeStore | undefined, classes: number[], opts: HistIouOptions) {
  const brick = opts.brick ?? BRICK;
  const known = new Uint8Array(256);
  for (const c of classes) if (c > 0 && c < 256) known[c] = 1;
  const r = opts.range;
  const bins = r?.bins ?? 0;
  const hist = new Float64Array(256 * bins);
  const scale = r ? bins / (r.hi - r.lo) : 0;
  const inter = new Float64Array(256), predN = new Float64Array(256), truthN = new Float64Array(256);
  const n = brickCount(labels.meta.shape, brick);
  let k = 0;
  for (const box of brickBoxes(labels.meta.shape, brick)) {
    throwIfAborted(opts.signal);
    const lab = await labels.readBlock(box, { signal: opts.signal });
    const grey = r && scan ? await scan.readBlock(box, { signal: opts.signal }) : undefined;
    const tr = truth ? await truth.readBlock(box, { signal: opts.signal }) : undefined;
    for (let i = 0; i < lab.length; i++) {
      const c = lab[i]!;
      if (tr) {
        const t = tr[i]!;
        if (t) {
          // scored where the truth has a class: |P ∩ T| and |P| + |T| per class (union = |P| + |T| − |P ∩ T|)
          predN[c]++;
          truthN[t]++;
          if (t === c) inter[c]++;
        }
      }
      if (grey && known[c]) {
        const b = Math.floor((grey[i]! - r!.lo) * scale);
        hist[c * bins + (b < 0 ? 0 : b >= bins ? bins - 1 : b)]++;
      }
    }
    opts.onProgress?.(++k / n, `histograms: brick ${k} of ${n}`);
  }
  const counts: Record<number, number[]> = {};
  if (r) for (const c of classes) if (known[c]) counts[c] = Array.from(hist.subarray(c * bins, (c + 1) * bins));
  const iou: Record<number, number> = {};
  if (truth) for (const c of classes) if (known[c]) {
    const union = predN[c] + truthN[c] - inter[c];
    iou[c] = union ? inter[c] / union : 0;
  }
  return { counts, iou };
}

/**
 * Grey-value histograms of `scan` (channel 0) per class of `labels`, over `range` (default: the
 * scan's whole grey range, one extra pass) in `bins` bins; values outside go to the end bins.
 */
export async function classGreyHistograms(
  labels: VolumeStore, scan: VolumeStore, classes: number[],
  opts: StageOptions & { bins?: number; range?: { lo: number; hi: number }; brick?: Shape3 } = {},
): Promise<GreyHistograms> {
  sameShape(labels, scan, 'The scan');
  const bins = opts.bins ?? HISTOGRAM_BINS;
  const range = opts.range ?? (await greyRange(scan, { ...opts, onProgress: part(opts.onProgress, 0, 0.4) }));
  const r = await histogramsAndIoU(labels, scan, undefined, classes, { ...opts, range: { ...range, bins }, onProgress: part(opts.onProgress, opts.range ? 0 : 0.4, 1) });
  return { lo: range.lo, hi: range.hi, bins, counts: r.counts };
}

/** Per-class IoU of `labels` vs `truth` over the voxels where the truth has a class (truth ≠ 0). */
export async function truthIoU(labels: VolumeStore, truth: VolumeStore, classes: number[], opts: StageOptions & { brick?: Shape3 } = {}): Promise<Record<number, number>> {
  sameShape(labels, truth, 'The truth volume');
  return (await histogramsAndIoU(labels, undefined, truth, classes, opts)).iou;
}

/** Depth bin thickness (voxels) giving about `maxBins` bins over the sample's thickness below `surface`. */
export function depthBinVox(shape: readonly number[], surface: SurfacePlane, maxBins = DEPTH_BINS_MAX): number {
  const [nz, ny, nx] = shape;
  const { a, b, c } = surface;
  const zs = [c, a * (nx - 1) + c, b * (ny - 1) + c, a * (nx - 1) + b * (ny - 1) + c];
  return Math.max(1, Math.ceil(Math.max(1, nz - Math.min(...zs)) / maxBins));
}

/** All statistics of the Results step, pass after pass (grey range, modal, depth, histograms with IoU). */
export async function resultsStats(input: ResultsStatsInput, opts: ResultsStatsOptions = {}): Promise<ResultsStats> {
  const t0 = Date.now();
  const { labels, scan, truth, classes, surface } = input;
  sameShape(labels, scan, 'The scan');
  if (truth) sameShape(labels, truth, 'The truth volume');
  const { signal, onProgress } = opts;
  const brick = opts.brick ?? BRICK;
  const bins = opts.bins ?? HISTOGRAM_BINS;
  const range = await greyRange(scan, { signal, brick, onProgress: part(onProgress, 0, 0.3) });
  // one pass over the labels for the modal mineralogy and the depth profile
  const binVox = depthBinVox(labels.meta.shape, surface, opts.depthBinsMax);
  const census = await labelCensus(labels, surface, { binVox, signal, onProgress: part(onProgress, 0.3, 0.6) });
  const modal = await modalMineralogy(labels, classes, { map: input.map, classMap: input.classMap, census });
  const depth = await depthProfile(labels, surface, classes, { census });
  const codes = classes.map((c) => c.code);
  const hi = await histogramsAndIoU(labels, scan, truth, codes, { signal, brick, range: { ...range, bins }, onProgress: part(onProgress, 0.6, 1) });
  return {
    modal,
    depth,
    histograms: { lo: range.lo, hi: range.hi, bins, counts: hi.counts },
    truthIoU: truth ? hi.iou : null,
    seconds: (Date.now() - t0) / 1000,
  };
}
