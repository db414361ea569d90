/**
 * Can the automatic search (coarse-align.ts) cover this map at the scan's voxel size? Its
 * exhaustive FFT translation search works on a grid of ~40 coarse pixels across the slab, so a
 * map many times as wide as the scan needs a template (and FFTs) that grow with the square of the
 * ratio: the real TIMA export (20 mm at 12.05 µm/px) on a 160-voxel scan at an assumed 1 µm is
 * 20000 x 20000 voxels, a 7200² FFT grid with 30 arrays of it per thread: the search grew past
 * 6 GiB without reporting progress. The budget is checked from the sizes alone, before the
 * surface is found or anything is allocated, by the one registration entry (register-eds.ts) that
 * the CLI, the server's jobs and the benches call; the server calls it again before a job starts.
 */
import { unprocessable } from '../errors';
import { fftSize } from './fft2d';

/** The coarse grid of the search: block size f (slab pixels), template size and FFT size (coarse pixels). */
export interface CoarseGrid { f: number; size: number; n: number }

/**
 * The search's coarse grid for a slab of slabW x slabH pixels and a map of mapW x mapH EDS pixels
 * at `scale` slab pixels per EDS pixel: ~40 coarse pixels across the slab, but at least ~24 across
 * a small map (fewer lose it); the template holds the map turned by any angle; the FFT covers every
 * translation that leaves some overlap, without wrapping round (fft2d.ts: factors 2, 3, 5).
 */
export function coarseGrid(slabW: number, slabH: number, mapW: number, mapH: number, scale: number): CoarseGrid {
  const mapExtent = scale * Math.max(mapW, mapH);
  const f = Math.max(1, Math.round(Math.min(Math.max(slabW, slabH) / 40, mapExtent / 24)));
  const size = Math.ceil((scale * Math.hypot(mapW, mapH)) / f) + 1;
  const n = fftSize(Math.max(Math.ceil(slabW / f), Math.ceil(slabH / f)) + size - 1);
  return { f, size, n };
}

/**
 * Bytes the sweep allocates (ratio-search.ts): per thread the fixed spectra (4 n² doubles), the
 * workspace (9 n²), one packed spectrum per class pair (2 n² each) and the template's class images
 * (classes x size²).
 */
export function searchBytes(g: CoarseGrid, classes: number, threads: number): number {
  const perThread = 8 * (g.n * g.n * (13 + 2 * Math.ceil(classes / 2)) + classes * g.size * g.size);
  return threads * perThread;
}

/**
 * The search's memory budget (both threads). At 30 classes it allows a map ~15 times as wide as
 * the scan (FFT grid ~880²); the synthetic maps of the tests and benches use < 1 % of it.
 */
export const MAX_SEARCH_BYTES = 512 * 2 ** 20;

const mem = (b: number) => (b >= 2 ** 30 ? `${+(b / 2 ** 30).toPrecision(3)} GiB` : `${Math.round(b / 2 ** 20)} MiB`);
const len = (um: number) => (um >= 1000 ? `${+(um / 1000).toPrecision(3)} mm` : `${+um.toPrecision(3)} µm`);

export interface MapScaleInput {
  width: number;
  height: number;
  pixelSizeUm: number;
  /** the map's file or dataset name */
  name?: string;
  /** mineral classes in the map (default 32: a TIMA legend's size) */
  classes?: number;
}

export interface MapScaleOptions {
  /** the scan's file gave no voxel size, so its voxel size was assumed (1 µm) */
  spacingAssumed?: boolean;
  /** threads of the search (default 2) */
  threads?: number;
  /** the slab's size when known (default: the volume's x and y extents) */
  slab?: [number, number];
}

/**
 * Throws Unprocessable, naming both sizes, the voxel size (and that it was assumed) and what to
 * check, when the automatic search on this map at this voxel size would need more than
 * MAX_SEARCH_BYTES. Cheap: reads only the sizes.
 */
export function checkMapScale(map: MapScaleInput, volume: { shape: readonly number[]; spacingUm: readonly number[] }, opts: MapScaleOptions = {}): void {
  const voxelUm = volume.spacingUm[2]!;
  const s = map.pixelSizeUm / voxelUm;
  const [, ny, nx] = volume.shape as [number, number, number];
  const [sw, sh] = opts.slab ?? [nx, ny];
  const bytes = searchBytes(coarseGrid(sw, sh, map.width, map.height, s), map.classes ?? 32, opts.threads ?? 2);
  if (bytes <= MAX_SEARCH_BYTES) return;
  const w = map.width * s, h = map.height * s;
  const times = Math.max(w / nx, h / ny);
  const why = opts.spacingAssumed
    ? `The scan's file gives no voxel size, so ${+voxelUm.toPrecision(4)} µm was assumed: import the scan again with its voxel size (on the Data step, delete the volume and upload it again with its voxel size).`
    : 'Check the voxel size of the scan and the pixel size of the map.';
  throw unprocessable(
    `The EDS map ${map.name ?? ''} covers ${len(map.width * map.pixelSizeUm)} × ${len(map.height * map.pixelSizeUm)} (${map.width} × ${map.height} px at ${+map.pixelSizeUm.toPrecision(4)} µm/px), ` +
      `that is ${Math.round(w)} × ${Math.round(h)} voxels of ${+voxelUm.toPrecision(4)} µm: ${times >= 10 ? Math.round(times) : +times.toPrecision(2)} times as wide as the scan (${nx} × ${ny} voxels, ${len(nx * voxelUm)} × ${len(ny * voxelUm)}). ` +
      `The automatic search cannot cover a map that large (it would need ${mem(bytes)}, more than its ${mem(MAX_SEARCH_BYTES)}). ${why} If both are right, crop the map to the scanned area (on the command line: petromap import-eds <map> --crop x,y,width,height, a box in map pixels), or place it with 3 landmark pairs.`,
    { details: { searchBytes: bytes, mapVoxels: [Math.round(w), Math.round(h)], voxelUm } },
  );
}
