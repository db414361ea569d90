/**
 * Pore/solid segmentation of a registered interior scan and what it measures per low-res voxel.
 *
 * Segmentation: a threshold per lithology class (classThresholds: Otsu's cut, then half-way between
 * the pore and grain peaks, since grains differ between classes) on a subsample of the scan, or a label
 * volume of the interior (e.g. a prediction of the trained engine on painted pore/solid strokes) with
 * the pore codes given. Each interior voxel is assigned to the low-res voxel its centre falls in
 * (the registered pose); a low-res voxel whose footprint lies wholly inside the interior (≥ 98 % of
 * the expected count) becomes a footprint measurement: porosity, its grey value in the large scan and
 * its class. Pores are also counted at the threshold ± δ (δ = 5 % of the pore–grain contrast): the
 * spread is the segmentation's share of the uncertainty.
 *
 * Pore size: the chord-length distribution of the pore phase along x and y inside each slice (runs
 * of pore voxels not cut by the scan's edge), in µm — a well-defined stand-in for local thickness
 * (for a sphere of diameter d the mean chord is 2d/3), computed in one streaming pass.
 */
import { invalidInput, throwIfAborted, type StageOptions } from '../errors';
import { otsu } from '../registration/otsu';
import type { VolumeStore } from '../volume/store';
import { footprintBox, type Affine3, type Vec3 } from './interior-pose';

export const CHORD_BINS = 32;

export interface Footprint {
  /** low-res voxel index */
  z: number; y: number; x: number;
  cls: number;
  grey: number;
  /** pore fraction at the threshold, and at threshold − δ / + δ */
  porosity: number;
  porosityLo: number;
  porosityHi: number;
  /** interior voxels it rests on */
  voxels: number;
}

export interface InteriorMeasurement {
  /** threshold of voxels outside any whole footprint, and per class code (NaN with labels) */
  threshold: number;
  thresholds: Record<number, number>;
  /** pore surface per interior voxel volume (1 / voxel edge) per class, from the chords (S_V = 2 P_L) */
  surfacePerVoxel: Record<number, number>;
  segmentation: 'otsu' | 'threshold' | 'labels';
  footprints: Footprint[];
  /** per class code: chord-length histogram (bin k = chords of k+1 voxels, last bin = longer) */
  chords: Record<number, number[]>;
  chordUm: number;
  /** interior voxels assigned to a whole footprint */
  voxelsUsed: number;
}

export interface MeasureOptions extends StageOptions {
  /** grey threshold (pore below it); default Otsu */
  threshold?: number;
  /** a pore/solid label volume of the interior (same shape) and its pore codes, instead of a threshold */
  labels?: { store: VolumeStore; poreCodes: number[] };
  interiorName?: string;
}

/**
 * Pore/grain threshold per lithology class from a strided subsample (≤ ~2 M voxels): half-way
 * between the pore and grain histogram peaks (the iso-50 % level of a blurred boundary, which keeps
 * the pore volume; Otsu's cut moves with the pore fraction and splits two grain populations when
 * pores are few). Key −1: all voxels; classes with < 2000 samples use it; Otsu is the fallback.
 */
export async function classThresholds(interior: VolumeStore, classOf: (z: number, y: number, x: number) => number, signal?: AbortSignal) {
  const [nz, ny, nx] = interior.meta.shape;
  const step = Math.max(1, Math.round(Math.cbrt((nz * ny * nx) / 2e6)));
  const vals = new Map<number, number[]>([[-1, []]]);
  // slabs of whole chunks (a slice at a time decompressed every chunk once per slice); the same samples
  const slabZ = Math.max(1, Math.min(nz, 64, Math.floor(16e6 / (ny * nx))));
  for (let z0 = 0; z0 < nz; z0 += slabZ) {
    throwIfAborted(signal);
    const dz = Math.min(slabZ, nz - z0);
    const d = await interior.readBlockF32({ start: [z0, 0, 0], shape: [dz, ny, nx] }, { signal });
    for (let z = z0 + ((step - (z0 % step)) % step); z < z0 + dz; z += step) {
      for (let y = 0; y < ny; y += step) for (let x = 0; x < nx; x += step) {
        const k = classOf(z, y, x), v = d[((z - z0) * ny + y) * nx + x]!;
        vals.get(-1)!.push(v);
        if (k >= 0) { if (!vals.has(k)) vals.set(k, []); vals.get(k)!.push(v); }
      }
    }
  }
  // the pore grey (epoxy or air) is one for all classes; the grain grey is each class's mode
  // (grains are the majority below 50 % porosity); the pore grey is the mode of the values in the
  // lower half between the darkest voxels and the darkest grain peak
  const all = Float32Array.from(vals.get(-1)!);
  const o = otsu(all);
  const grains = new Map<number, number>();
  for (const [k, v] of vals) if (k === -1 || v.length >= 2000) grains.set(k, mode(Float32Array.from(v)));
  const sorted = Float32Array.from(all).sort();
  const darkest = sorted[Math.floor(0.001 * sorted.length)]!;
  const minGrain = Math.min(...grains.values());
  const dark = all.filter((x) => x < (darkest + minGrain) / 2);
  const pore = dark.length >= 0.005 * all.length ? mode(dark) : o.lowMean;
  const out = new Map<number, { threshold: number; lowMean: number; highMean: number }>();
  for (const [k, g] of grains) out.set(k, g > pore ? { threshold: (pore + g) / 2, lowMean: pore, highMean: g } : o);
  return out;
}

function mode(v: Float32Array): number {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
  const bins = 128, w = (hi - lo) / bins || 1, h = new Float64Array(bins);
  for (const x of v) h[Math.min(bins - 1, Math.floor((x - lo) / w))]++;
  let best = 0, bi = 0;
  for (let i = 0; i < bins; i++) {
    const s = (h[i - 2] ?? 0) + (h[i - 1] ?? 0) + h[i]! + (h[i + 1] ?? 0) + (h[i + 2] ?? 0);
    if (s > best) { best = s; bi = i; }
  }
  return lo + (bi + 0.5) * w;
}

export async function measureInterior(
  volume: VolumeStore, classes: VolumeStore, interior: VolumeStore, hiToLow: Affine3, opts: MeasureOptions = {},
): Promise<InteriorMeasurement> {
  const { signal } = opts;
  const shape = [...interior.meta.shape] as Vec3, [nz, ny, nx] = shape;
  if (opts.labels) checkPoreLabels(opts.labels.store, interior, opts.interiorName);
  const vol = volume.meta.shape;
  const box = footprintBox(hiToLow, shape);
  const bs = box.start.map((v) => Math.max(0, v)) as Vec3;
  const be = box.end.map((v, a) => Math.min(vol[a]!, v)) as Vec3;
  const bShape = be.map((v, a) => Math.max(0, v - bs[a]!)) as Vec3;
  const nb = bShape[0] * bShape[1] * bShape[2];
  const count = new Uint32Array(nb), pores = new Uint32Array(nb), poresLo = new Uint32Array(nb), poresHi = new Uint32Array(nb);
  const m = hiToLow;
  const chordCls = new Map<number, Float64Array>();
  const chordEnds = new Float64Array(256), lineVoxels = new Float64Array(256);
  const cls = nb ? await classes.readBlock({ start: bs, shape: bShape }, { signal }) : new Uint8Array(0);
  const cellOf = (z: number, y: number, x: number) => {
    const qz = Math.round(m[0] * z + m[1] * y + m[2] * x + m[3]) - bs[0], qy = Math.round(m[4] * z + m[5] * y + m[6] * x + m[7]) - bs[1];
    const qx = Math.round(m[8] * z + m[9] * y + m[10] * x + m[11]) - bs[2];
    return qz >= 0 && qy >= 0 && qx >= 0 && qz < bShape[0] && qy < bShape[1] && qx < bShape[2] ? (qz * bShape[1] + qy) * bShape[2] + qx : -1;
  };
  // thresholds per lithology class (grains differ between classes): 0 holds the one for all
  const thresholds = new Float64Array(256).fill(NaN), deltas = new Float64Array(256);
  let segmentation: InteriorMeasurement['segmentation'] = 'labels';
  if (!opts.labels) {
    const t = await classThresholds(interior, (z, y, x) => { const c = cellOf(z, y, x); return c < 0 ? -1 : cls[c]!; }, signal);
    for (let k = 0; k < 256; k++) {
      const o = t.get(k) ?? t.get(-1)!;
      thresholds[k] = opts.threshold ?? o.threshold;
      deltas[k] = 0.05 * (o.highMean - o.lowMean);
    }
    segmentation = opts.threshold === undefined ? 'otsu' : 'threshold';
  }
  const addChord = (len: number, z: number, y: number, x: number) => {
    const c = cellOf(z, y, x);
    if (c < 0) return;
    const k = cls[c]!;
    chordEnds[k] += 2;
    let h = chordCls.get(k);
    if (!h) chordCls.set(k, (h = new Float64Array(CHORD_BINS)));
    h[Math.min(CHORD_BINS, len) - 1]++;
  };
  const slabZ = Math.max(1, Math.min(nz, Math.floor(16e6 / (ny * nx))));
  const plane = ny * nx;
  for (let z0 = 0; z0 < nz; z0 += slabZ) {
    throwIfAborted(signal);
    const dz = Math.min(slabZ, nz - z0);
    const grey = opts.labels ? null : await interior.readBlockF32({ start: [z0, 0, 0], shape: [dz, ny, nx] }, { signal });
    const lab = opts.labels ? await opts.labels.store.readBlock({ start: [z0, 0, 0], shape: [dz, ny, nx] }, { signal }) : null;
    const poreSet = opts.labels ? new Set(opts.labels.poreCodes) : null;
    const isPore = new Uint8Array(dz * plane);
    for (let a = 0; a < dz; a++) {
      const z = z0 + a;
      for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
        const i = a * plane + y * nx + x;
        const c = cellOf(z, y, x);
        const k = c < 0 ? 0 : cls[c]!;
        const t = thresholds[k]!;
        isPore[i] = grey ? (grey[i]! < t ? 1 : 0) : poreSet!.has(lab![i]!) ? 1 : 0;
        if (c < 0) continue;
        count[c]++;
        lineVoxels[cls[c]!] += 2; // one x line and one y line pass through each voxel
        if (isPore[i]) pores[c]++;
        if (grey) {
          if (grey[i]! < t - deltas[k]!) poresLo[c]++;
          if (grey[i]! < t + deltas[k]!) poresHi[c]++;
        }
      }
      // chords along x and y; runs touching the scan's edge are cut, not counted
      for (let y = 0; y < ny; y++) runs(isPore, a * plane + y * nx, 1, nx, (s, len) => addChord(len, z, y, s + len / 2));
      for (let x = 0; x < nx; x++) runs(isPore, a * plane + x, nx, ny, (s, len) => addChord(len, z, s + len / 2, x));
    }
    opts.onProgress?.((z0 + dz) / nz, `measuring slice ${z0 + dz} of ${nz}`);
  }
  const expected = 1 / Math.abs(m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) + m[2] * (m[4] * m[9] - m[5] * m[8]));
  const lowGrey = nb ? await volume.readBlockF32({ start: bs, shape: bShape }, { signal }) : new Float32Array(0);
  const footprints: Footprint[] = [];
  if (opts.labels && nb && !pores.some((v) => v > 0)) {
    throw invalidInput(`The pore labels ${baseName(opts.labels.store.path)} mark no voxel of interior scan ${opts.interiorName ?? baseName(interior.path)} as pore (pore code${opts.labels.poreCodes.length > 1 ? 's' : ''} ${opts.labels.poreCodes.join(', ')}): check which code marks pores (on the command line: --pores labels.ome.zarr:codes), or measure with the threshold.`);
  }
  let voxelsUsed = 0;
  for (let c = 0; c < nb; c++) {
    if (count[c]! < 0.98 * expected) continue;
    const n = count[c]!;
    const x = c % bShape[2], y = Math.floor(c / bShape[2]) % bShape[1], z = Math.floor(c / (bShape[1] * bShape[2]));
    const p = pores[c]! / n;
    footprints.push({
      z: z + bs[0], y: y + bs[1], x: x + bs[2], cls: cls[c]!, grey: lowGrey[c]!,
      porosity: p, porosityLo: grey0(opts) ? p : poresLo[c]! / n, porosityHi: grey0(opts) ? p : poresHi[c]! / n, voxels: n,
    });
    voxelsUsed += n;
  }
  const chords: Record<number, number[]> = {};
  for (const [k, h] of chordCls) chords[k] = Array.from(h);
  const perClass: Record<number, number> = {}, surfacePerVoxel: Record<number, number> = {};
  for (const f of footprints) if (!(f.cls in perClass)) {
    perClass[f.cls] = thresholds[f.cls]!;
    // stereology: surface per volume S_V = 2 P_L, P_L = pore/grain crossings per unit line length
    surfacePerVoxel[f.cls] = lineVoxels[f.cls]! ? (2 * chordEnds[f.cls]!) / lineVoxels[f.cls]! : 0;
  }
  return { threshold: thresholds[0]!, thresholds: perClass, surfacePerVoxel, segmentation, footprints, chords, chordUm: interior.meta.spacingUm[2], voxelsUsed };
}

const grey0 = (o: MeasureOptions) => !!o.labels;
const baseName = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

/** A pore label volume must be a label volume (8-bit) of the interior's shape: refused before any work otherwise. */
export function checkPoreLabels(labels: VolumeStore, interior: VolumeStore, interiorName?: string): void {
  const ln = baseName(labels.path), iname = interiorName ?? baseName(interior.path);
  if (labels.meta.shape.some((n, a) => n !== interior.meta.shape[a])) {
    throw invalidInput(`The pore labels ${ln} (${labels.meta.shape.join(' × ')} voxels) do not have the shape of interior scan ${iname} (${interior.meta.shape.join(' × ')}): give the labels made on that scan.`);
  }
  if (labels.meta.dtype !== 'uint8') {
    throw invalidInput(`The pore labels ${ln} hold ${labels.meta.dtype} values, not labels (8-bit codes): is it a grey scan? Give the pore/solid label volume of ${iname}.`);
  }
}

/** Calls visit(start, length) for each run of 1s along a line that touches neither end of the line. */
function runs(a: Uint8Array, start: number, stride: number, n: number, visit: (s: number, len: number) => void) {
  let s = -1;
  for (let k = 0; k <= n; k++) {
    const on = k < n && a[start + k * stride] === 1;
    if (on && s < 0) s = k;
    else if (!on && s >= 0) {
      if (s > 0 && k < n) visit(s, k - s);
      s = -1;
    }
  }
}
