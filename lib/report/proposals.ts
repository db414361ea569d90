/**
 * Scan-location proposals: for each class of a label volume (painted lithology, predicted
 * mineral or lithology map), the field of view (a box of fixed size) where that class is the
 * purest, with its position in voxels and µm and the class fractions inside it. The fractions of
 * each proposed region are the input of an upscaled composite model (one high-resolution scan
 * per class).
 *
 * Search in two stages:
 *   1. coarse: per-class voxel counts in cells of f×f×f voxels (streamed from level 0; the label
 *      store's own pyramid holds means of codes, which mean nothing), a 3D summed-area table per
 *      class and a sliding window of the field of view in cells; the best few well-separated
 *      windows per class are kept;
 *   2. refine at full resolution: around each coarse candidate, every start within ±f voxels is
 *      scored exactly, streaming one z plane at a time (2D summed-area table per plane, then a
 *      running sum along z), so memory stays one plane whatever the field of view.
 * Ties (e.g. a pure region larger than the field of view) go to the window closest to the centre
 * of the tied ones, so the box sits in the middle of the pure region.
 */
import { invalidInput, throwIfAborted, unprocessable, type StageOptions } from '../errors';
import type { VolumeStore } from '../volume/store';
import type { Box3, Shape3 } from '../volume/types';

export interface ProposalClass {
  code: number;
  name: string;
}

export interface ClassFraction {
  /** class code; 0 = unlabelled voxels, -1 = voxels of codes not in the class list */
  code: number;
  name: string;
  fraction: number;
}

export interface ScanProposal {
  code: number;
  name: string;
  /** fraction of the box's voxels that are of this class */
  purity: number;
  /** box in level-0 voxels, (z, y, x) */
  box: Box3;
  /** physical extent: corner of the first voxel (voxel centre − half a voxel) and size, µm, (z, y, x) */
  startUm: [number, number, number];
  sizeUm: [number, number, number];
  centreUm: [number, number, number];
  /** fractions of every listed class (then unlabelled/other where present) inside the box */
  fractions: ClassFraction[];
}

export interface ProposeOptions extends StageOptions {
  /** coarse cell edge in voxels (power of two); default: chosen from the field of view and memory */
  cellVox?: number;
  /** coarse candidates refined per class (default 3) */
  candidates?: number;
  /** which store the labels came from, for messages */
  source?: string;
}

export interface ProposeResult {
  proposals: ScanProposal[];
  /** field of view actually used (clipped to the volume), voxels (z, y, x) */
  fovVox: Shape3;
  /** classes of the list with no voxel in the volume */
  absent: ProposalClass[];
  cellVox: number;
}

const MAX_COARSE_CELLS = 4_000_000;

/** Field of view in µm → voxels (at least 1 per axis). */
export function fovUmToVox(fovUm: [number, number, number], spacingUm: [number, number, number]): Shape3 {
  return [0, 1, 2].map((a) => Math.max(1, Math.round(fovUm[a]! / spacingUm[a]!))) as Shape3;
}

function chooseCell(shape: Shape3, fov: Shape3, requested?: number): number {
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1) throw invalidInput(`The coarse cell size must be a whole number of voxels ≥ 1, got ${requested}.`);
    return requested;
  }
  let f = 1;
  // coarse window at least ~4 cells along its shortest side, but no more cells than memory allows
  while (f * 2 <= Math.min(...fov) / 4) f *= 2;
  while (Math.ceil(shape[0] / f) * Math.ceil(shape[1] / f) * Math.ceil(shape[2] / f) > MAX_COARSE_CELLS) f *= 2;
  return f;
}

/** 3D summed-area table with a zero border: s[(z+1, y+1, x+1)] = sum of v over [0..z]×[0..y]×[0..x]. */
function sat3(v: ArrayLike<number>, n: Shape3): Float64Array {
  const [nz, ny, nx] = n;
  const sy = nx + 1, sz = (ny + 1) * sy;
  const s = new Float64Array((nz + 1) * sz);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) {
    let row = 0;
    const o = (z + 1) * sz + (y + 1) * sy;
    const i0 = (z * ny + y) * nx;
    for (let x = 0; x < nx; x++) {
      row += v[i0 + x]!;
      s[o + x + 1] = row + s[o - sy + x + 1]! + s[o - sz + x + 1]! - s[o - sz - sy + x + 1]!;
    }
  }
  return s;
}

function boxSum3(s: Float64Array, n: Shape3, z: number, y: number, x: number, w: Shape3): number {
  const sy = n[2] + 1, sz = (n[1] + 1) * sy;
  const z1 = z + w[0], y1 = y + w[1], x1 = x + w[2];
  return (
    s[z1 * sz + y1 * sy + x1]! - s[z * sz + y1 * sy + x1]! - s[z1 * sz + y * sy + x1]! - s[z1 * sz + y1 * sy + x]! +
    s[z * sz + y * sy + x1]! + s[z * sz + y1 * sy + x]! + s[z1 * sz + y * sy + x]! - s[z * sz + y * sy + x]!
  );
}

interface Coarse {
  cell: number;
  grid: Shape3;
  /** per class index (order of `classes`), voxel counts per cell */
  counts: Uint32Array[];
  /** real voxels per cell (edge cells are partial) */
  voxels: Uint32Array;
  /** total voxels per class index, plus [n] = unlabelled, [n+1] = other codes */
  totals: number[];
}

async function coarseCounts(store: VolumeStore, codeIndex: Int16Array, nClasses: number, cell: number, opts: ProposeOptions): Promise<Coarse> {
  const [nz, ny, nx] = store.meta.shape;
  const grid: Shape3 = [Math.ceil(nz / cell), Math.ceil(ny / cell), Math.ceil(nx / cell)];
  const nCells = grid[0] * grid[1] * grid[2];
  const counts = Array.from({ length: nClasses }, () => new Uint32Array(nCells));
  const voxels = new Uint32Array(nCells);
  const totals = new Array<number>(nClasses + 2).fill(0);
  // slabs of whole cells, at least ~8 planes, bounded to ~32 MB
  const planes = Math.max(cell, Math.min(Math.ceil(8 / cell) * cell, Math.floor((32 * 2 ** 20) / (ny * nx) / cell) * cell || cell));
  const xCell = new Int32Array(nx), yCell = new Int32Array(ny);
  for (let x = 0; x < nx; x++) xCell[x] = Math.floor(x / cell);
  for (let y = 0; y < ny; y++) yCell[y] = Math.floor(y / cell);
  for (let z0 = 0; z0 < nz; z0 += planes) {
    throwIfAborted(opts.signal);
    const dz = Math.min(planes, nz - z0);
    const data = await store.readBlock({ start: [z0, 0, 0], shape: [dz, ny, nx] }, { signal: opts.signal });
    for (let z = 0; z < dz; z++) {
      const cz = Math.floor((z0 + z) / cell);
      for (let y = 0; y < ny; y++) {
        const cRow = (cz * grid[1] + yCell[y]!) * grid[2];
        const i0 = (z * ny + y) * nx;
        for (let x = 0; x < nx; x++) {
          const c = cRow + xCell[x]!;
          voxels[c]++;
          const k = codeIndex[data[i0 + x]!]!;
          if (k >= 0) {
            counts[k]![c]++;
            totals[k]++;
          } else totals[k === -1 ? nClasses : nClasses + 1]++;
        }
      }
    }
    opts.onProgress?.(0.5 * Math.min(1, (z0 + dz) / nz), 'counting classes');
  }
  return { cell, grid, counts, voxels, totals };
}

/** The tied position closest to the mean of the tied positions (first in scan order on ties). */
function centralTie(ties: Shape3[]): Shape3 {
  const mean = [0, 1, 2].map((a) => ties.reduce((s, t) => s + t[a]!, 0) / ties.length);
  let best = ties[0]!, bestD = Infinity;
  for (const t of ties) {
    const d = (t[0] - mean[0]!) ** 2 + (t[1] - mean[1]!) ** 2 + (t[2] - mean[2]!) ** 2;
    if (d < bestD - 1e-9) (bestD = d), (best = t);
  }
  return best;
}

/** Best `k` well-separated coarse windows of class `ci` (purity = class voxels / voxels). */
function coarseCandidates(co: Coarse, ci: number, win: Shape3, k: number): Shape3[] {
  const { grid } = co;
  const sc = sat3(co.counts[ci]!, grid), sv = sat3(co.voxels, grid);
  const n: Shape3 = [grid[0] - win[0] + 1, grid[1] - win[1] + 1, grid[2] - win[2] + 1];
  const score = new Float64Array(n[0] * n[1] * n[2]);
  for (let z = 0; z < n[0]; z++) for (let y = 0; y < n[1]; y++) for (let x = 0; x < n[2]; x++) {
    const v = boxSum3(sv, grid, z, y, x, win);
    score[(z * n[1] + y) * n[2] + x] = v > 0 ? boxSum3(sc, grid, z, y, x, win) / v : 0;
  }
  const out: Shape3[] = [];
  const sep = win.map((w) => Math.max(1, Math.ceil(w / 2)));
  for (let pick = 0; pick < k; pick++) {
    let best = -1, bi = -1;
    for (let i = 0; i < score.length; i++) if (score[i]! > best) (best = score[i]!), (bi = i);
    if (bi < 0 || best <= 0) break;
    // a plateau of equally pure windows (pure region larger than the fov): take its middle
    const at = (i: number): Shape3 => [Math.floor(i / (n[1] * n[2])), Math.floor(i / n[2]) % n[1], i % n[2]];
    const ties: number[] = [];
    for (let i = bi; i < score.length; i++) if (score[i]! >= best - 1e-12) ties.push(i);
    const p = centralTie(ties.map(at));
    out.push(p);
    // suppress windows overlapping this one by more than half along every axis
    for (let z = Math.max(0, p[0] - sep[0] + 1); z < Math.min(n[0], p[0] + sep[0]); z++)
      for (let y = Math.max(0, p[1] - sep[1] + 1); y < Math.min(n[1], p[1] + sep[1]); y++)
        for (let x = Math.max(0, p[2] - sep[2] + 1); x < Math.min(n[2], p[2] + sep[2]); x++) score[(z * n[1] + y) * n[2] + x] = -1;
  }
  return out;
}

/**
 * Exact class counts of every fov window whose start lies in [lo, hi] (inclusive, per axis),
 * streaming the region one z plane at a time. Returns counts indexed [(dz * ry + dy) * rx + dx].
 */
async function windowCounts(store: VolumeStore, code: number, fov: Shape3, lo: Shape3, hi: Shape3, signal?: AbortSignal): Promise<{ counts: Float64Array; r: Shape3 }> {
  const r: Shape3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const ey = fov[1] + r[1] - 1, ex = fov[2] + r[2] - 1, ez = fov[0] + r[0] - 1;
  const nOff2 = r[1] * r[2];
  // per-plane 2D window counts, then a running sum over fov[0] planes along z
  const planeSums = new Float64Array(ez * nOff2);
  const sat = new Float64Array((ey + 1) * (ex + 1));
  const zBatch = Math.max(1, Math.min(ez, Math.floor((16 * 2 ** 20) / (ey * ex))));
  for (let z0 = 0; z0 < ez; z0 += zBatch) {
    throwIfAborted(signal);
    const dz = Math.min(zBatch, ez - z0);
    const data = await store.readBlock({ start: [lo[0] + z0, lo[1], lo[2]], shape: [dz, ey, ex] }, { signal });
    for (let z = 0; z < dz; z++) {
      for (let y = 0; y < ey; y++) {
        let row = 0;
        const i0 = (z * ey + y) * ex;
        const o = (y + 1) * (ex + 1);
        for (let x = 0; x < ex; x++) {
          if (data[i0 + x] === code) row++;
          sat[o + x + 1] = row + sat[o - (ex + 1) + x + 1]!;
        }
      }
      const base = (z0 + z) * nOff2;
      for (let oy = 0; oy < r[1]; oy++) for (let ox = 0; ox < r[2]; ox++) {
        const y1 = oy + fov[1], x1 = ox + fov[2];
        planeSums[base + oy * r[2] + ox] =
          sat[y1 * (ex + 1) + x1]! - sat[oy * (ex + 1) + x1]! - sat[y1 * (ex + 1) + ox]! + sat[oy * (ex + 1) + ox]!;
      }
    }
  }
  const counts = new Float64Array(r[0] * nOff2);
  for (let j = 0; j < nOff2; j++) {
    let run = 0;
    for (let z = 0; z < fov[0]; z++) run += planeSums[z * nOff2 + j]!;
    counts[j] = run;
    for (let oz = 1; oz < r[0]; oz++) {
      run += planeSums[(oz + fov[0] - 1) * nOff2 + j]! - planeSums[(oz - 1) * nOff2 + j]!;
      counts[oz * nOff2 + j] = run;
    }
  }
  return { counts, r };
}

/** Class fractions inside a box (listed classes, then unlabelled and other codes where present). */
export async function boxFractions(store: VolumeStore, box: Box3, classes: ProposalClass[], signal?: AbortSignal): Promise<ClassFraction[]> {
  const hist = new Float64Array(256);
  const [bz, by, bx] = box.shape;
  const zBatch = Math.max(1, Math.min(bz, Math.floor((16 * 2 ** 20) / (by * bx))));
  for (let z0 = 0; z0 < bz; z0 += zBatch) {
    throwIfAborted(signal);
    const dz = Math.min(zBatch, bz - z0);
    const data = await store.readBlock({ start: [box.start[0] + z0, box.start[1], box.start[2]], shape: [dz, by, bx] }, { signal });
    for (let i = 0; i < data.length; i++) hist[data[i]!]++;
  }
  const total = bz * by * bx;
  const listed = new Set(classes.map((c) => c.code));
  const out: ClassFraction[] = classes.map((c) => ({ code: c.code, name: c.name, fraction: hist[c.code]! / total }));
  if (hist[0]! > 0) out.push({ code: 0, name: 'unlabelled', fraction: hist[0]! / total });
  let other = 0;
  for (let c = 1; c < 256; c++) if (!listed.has(c)) other += hist[c]!;
  if (other > 0) out.push({ code: -1, name: 'other codes', fraction: other / total });
  return out;
}

/**
 * For each class, the field of view of `fovVox` voxels with the highest fraction of that class.
 * `labelsStore` holds uint8 class codes at level 0 (0 = unlabelled).
 */
export async function proposeScanLocations(labelsStore: VolumeStore, classes: ProposalClass[], fovVox: Shape3, opts: ProposeOptions = {}): Promise<ProposeResult> {
  const src = opts.source ?? labelsStore.path;
  const meta = labelsStore.meta;
  if (meta.dtype !== 'uint8') throw invalidInput(`${src}: a label map must hold uint8 class codes, this one holds ${meta.dtype}.`);
  if (!Array.isArray(fovVox) || fovVox.length !== 3 || !fovVox.every((v) => Number.isFinite(v) && v >= 1)) {
    throw invalidInput(`The field of view must be three sizes ≥ 1 voxel (z, y, x), got ${JSON.stringify(fovVox)}.`);
  }
  if (!classes.length) throw unprocessable(`${src}: there are no classes to propose scan locations for; define classes first.`);
  for (const c of classes) {
    if (!Number.isInteger(c.code) || c.code < 1 || c.code > 255) throw invalidInput(`Class "${c.name}" has code ${c.code}; class codes are 1..255.`);
  }
  const shape = meta.shape;
  const fov = fovVox.map((v, a) => Math.min(Math.round(v), shape[a]!)) as Shape3;
  const cell = chooseCell(shape, fov, opts.cellVox);
  const codeIndex = new Int16Array(256).fill(-2);
  codeIndex[0] = -1;
  classes.forEach((c, i) => (codeIndex[c.code] = i));
  const co = await coarseCounts(labelsStore, codeIndex, classes.length, cell, opts);
  const win = fov.map((v, a) => Math.max(1, Math.min(co.grid[a]!, Math.round(v / cell)))) as Shape3;
  const maxStart = shape.map((n, a) => n - fov[a]!) as Shape3;
  const k = opts.candidates ?? 3;

  const proposals: ScanProposal[] = [];
  const absent: ProposalClass[] = [];
  for (let ci = 0; ci < classes.length; ci++) {
    const cls = classes[ci]!;
    if (co.totals[ci] === 0) {
      absent.push(cls);
      continue;
    }
    const cands = coarseCandidates(co, ci, win, k);
    let best = -1;
    let ties: Shape3[] = [];
    for (const c of cands) {
      // voxel start of the fov centred in the coarse window, then ±cell around it
      const centre = c.map((v, a) => Math.round(v * cell + (win[a]! * cell - fov[a]!) / 2)) as Shape3;
      const lo = centre.map((v, a) => Math.max(0, Math.min(maxStart[a]!, v - cell))) as Shape3;
      const hi = centre.map((v, a) => Math.max(0, Math.min(maxStart[a]!, v + cell))) as Shape3;
      const { counts, r } = await windowCounts(labelsStore, cls.code, fov, lo, hi, opts.signal);
      for (let oz = 0; oz < r[0]; oz++) for (let oy = 0; oy < r[1]; oy++) for (let ox = 0; ox < r[2]; ox++) {
        const v = counts[(oz * r[1] + oy) * r[2] + ox]!;
        const p: Shape3 = [lo[0] + oz, lo[1] + oy, lo[2] + ox];
        if (v > best) (best = v), (ties = [p]);
        else if (v === best && !ties.some((t) => t[0] === p[0] && t[1] === p[1] && t[2] === p[2])) ties.push(p);
      }
    }
    opts.onProgress?.(0.5 + (0.5 * (ci + 1)) / classes.length, `refining the field of view for ${cls.name}`);
    if (!ties.length) {
      absent.push(cls);
      continue;
    }
    const start = centralTie(ties);
    const box: Box3 = { start, shape: [...fov] };
    const sp = meta.spacingUm, org = meta.originUm;
    const startUm = [0, 1, 2].map((a) => org[a]! + (start[a]! - 0.5) * sp[a]!) as [number, number, number];
    const sizeUm = [0, 1, 2].map((a) => fov[a]! * sp[a]!) as [number, number, number];
    proposals.push({
      code: cls.code,
      name: cls.name,
      purity: best / (fov[0] * fov[1] * fov[2]),
      box,
      startUm,
      sizeUm,
      centreUm: [0, 1, 2].map((a) => startUm[a]! + sizeUm[a]! / 2) as [number, number, number],
      fractions: await boxFractions(labelsStore, box, classes, opts.signal),
    });
  }
  opts.onProgress?.(1, 'done');
  return { proposals, fovVox: fov, absent, cellVox: cell };
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const num = (v: number, d = 3) => String(+v.toFixed(d));

/** The proposals as CSV: one row per class, box in voxels and µm, then one column per class fraction. */
export function proposalsCsv(result: ProposeResult, classes: ProposalClass[]): string {
  const head = [
    'class', 'code', 'purity',
    'z0_vox', 'y0_vox', 'x0_vox', 'z_size_vox', 'y_size_vox', 'x_size_vox',
    'z0_um', 'y0_um', 'x0_um', 'z_size_um', 'y_size_um', 'x_size_um',
    'z_centre_um', 'y_centre_um', 'x_centre_um',
    ...classes.map((c) => `fraction_${c.name}`), 'fraction_unlabelled',
  ];
  const rows = result.proposals.map((p) => {
    const f = new Map(p.fractions.map((x) => [x.code, x.fraction]));
    return [
      csvField(p.name), String(p.code), num(p.purity, 4),
      ...p.box.start.map(String), ...p.box.shape.map(String),
      ...p.startUm.map((v) => num(v)), ...p.sizeUm.map((v) => num(v)), ...p.centreUm.map((v) => num(v)),
      ...classes.map((c) => num(f.get(c.code) ?? 0, 4)), num(f.get(0) ?? 0, 4),
    ].join(',');
  });
  return [head.map(csvField).join(','), ...rows].join('\n') + '\n';
}
