/**
 * Local shifts of parts of the EDS map (patches, mosaic fields) against the slab, under a global
 * EDS -> slab transform G: the shift d of a part says that its pixel p shows the surface at
 * G(p + d). Measured by least squares between the slab grey and the map rendered in the slab's
 * own grey (each class at its mean slab grey under G, bilinear between EDS pixels), first on a
 * one-pixel grid over ±maxShift, then by a shrinking-step hill climb. Class means come from the
 * whole map, so a small part (a 16-voxel patch) still has a stable, contrast-free criterion.
 */
import { applyAffine2, invertAffine2, type Affine2 } from '../coords';
import type { MovingImage } from './moving-image';
import type { FieldRect, Slab } from './types';

/** The map in slab grey: mean slab grey of each class under edsToSlab; NaN where the map has no class. */
export function predictedGrey(slab: Slab, mov: MovingImage, edsToSlab: Affine2): Float32Array {
  const inv = invertAffine2(edsToSlab);
  const n = new Float64Array(mov.classes), s = new Float64Array(mov.classes);
  for (let v = 0; v < slab.height; v++) for (let u = 0; u < slab.width; u++) {
    const g = slab.data[v * slab.width + u];
    if (g !== g) continue;
    const eu = Math.round(inv[0] * u + inv[1] * v + inv[2]), ev = Math.round(inv[3] * u + inv[4] * v + inv[5]);
    if (eu < 0 || ev < 0 || eu >= mov.width || ev >= mov.height) continue;
    const k = mov.labels[ev * mov.width + eu];
    if (k < mov.classes) { n[k]++; s[k] += g; }
  }
  const out = new Float32Array(mov.width * mov.height);
  for (let i = 0; i < out.length; i++) {
    const k = mov.labels[i];
    out[i] = k < mov.classes && n[k] > 0 ? s[k] / n[k] : NaN;
  }
  return out;
}

/** Bilinear value of P at (u, v), over the corners that have a value; NaN when they weigh < 0.5. */
function sample(P: Float32Array, w: number, h: number, u: number, v: number): number {
  const iu = Math.floor(u), iv = Math.floor(v), fu = u - iu, fv = v - iv;
  let sum = 0, wt = 0;
  for (let c = 0; c < 4; c++) {
    const x = iu + (c & 1), y = iv + (c >> 1);
    if (x < 0 || y < 0 || x >= w || y >= h) continue;
    const p = P[y * w + x];
    if (p !== p) continue;
    const k = (c & 1 ? fu : 1 - fu) * (c >> 1 ? fv : 1 - fv);
    sum += k * p; wt += k;
  }
  return wt >= 0.5 ? sum / wt : NaN;
}

export interface PartShift {
  /** EDS pixels */
  shift: [number, number];
  /** slab pixels the part covers inside the volume */
  pixels: number;
  /** share of the part's area (in slab pixels) that is inside the volume */
  overlap: number;
  /** mean squared misfit at the zero shift and at the found shift */
  cost0: number;
  cost: number;
  /**
   * inverse variance of the shift along u and v (1/px^2): n * curvature / (2 * misfit), the
   * least-squares precision; ~0 for a featureless part (one grain) whose shift means nothing
   */
  weight: [number, number];
  /**
   * misfit of the best other local minimum of the one-pixel search grid at least 2 px from the
   * match (Infinity when none), and of the match on that grid: a second match almost as good as the
   * first means the part could lock onto a wrong one
   */
  secondCost: number;
  gridCost: number;
}

/** The slab pixels (grey, EDS position under G) whose EDS position lies in the part. */
export function partPixels(slab: Slab, G: Affine2, box: FieldRect) {
  const inv = invertAffine2(G);
  const corners = [[box.u0 - 0.5, box.v0 - 0.5], [box.u0 + box.width - 0.5, box.v0 - 0.5], [box.u0 - 0.5, box.v0 + box.height - 0.5], [box.u0 + box.width - 0.5, box.v0 + box.height - 0.5]]
    .map(([u, v]) => applyAffine2(G, u, v));
  const su0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[0])))), su1 = Math.min(slab.width - 1, Math.ceil(Math.max(...corners.map((c) => c[0]))));
  const sv0 = Math.max(0, Math.floor(Math.min(...corners.map((c) => c[1])))), sv1 = Math.min(slab.height - 1, Math.ceil(Math.max(...corners.map((c) => c[1]))));
  const g: number[] = [], pu: number[] = [], pv: number[] = [];
  for (let v = sv0; v <= sv1; v++) for (let u = su0; u <= su1; u++) {
    const grey = slab.data[v * slab.width + u];
    if (grey !== grey) continue;
    const eu = inv[0] * u + inv[1] * v + inv[2], ev = inv[3] * u + inv[4] * v + inv[5];
    if (eu < box.u0 - 0.5 || ev < box.v0 - 0.5 || eu >= box.u0 + box.width - 0.5 || ev >= box.v0 + box.height - 0.5) continue;
    g.push(grey); pu.push(eu); pv.push(ev);
  }
  const area = Math.abs(G[0] * G[4] - G[1] * G[3]) * box.width * box.height;
  return { g, pu, pv, area };
}

/**
 * The shift of one part (patch or field) of the map under G, or null when fewer than `minOverlap`
 * of its area lies on the slab inside the volume. P = predictedGrey(slab, mov, G).
 */
export function measurePartShift(slab: Slab, P: Float32Array, mw: number, mh: number, G: Affine2, box: FieldRect, opts: { maxShift?: number; minOverlap?: number; labels?: { labels: Uint8Array; classes: number }; gridStep?: number } = {}): PartShift | null {
  const { g, pu, pv, area } = partPixels(slab, G, box);
  const overlap = area > 0 ? g.length / area : 0;
  if (overlap < (opts.minOverlap ?? 0.5) || g.length < 24) return null;
  // EDS pixel p shows G(p + d): the slab pixel at G(q) shows map pixel q - d
  const ssd = (du: number, dv: number) => {
    let s = 0, n = 0;
    for (let i = 0; i < g.length; i++) {
      const p = sample(P, mw, mh, pu[i] - du, pv[i] - dv);
      if (p !== p) continue;
      const r = g[i] - p;
      s += r * r; n++;
    }
    return n >= 0.5 * g.length ? s / n : Infinity;
  };
  const cost = opts.labels ? ratioCost(g, pu, pv, opts.labels, mw, mh) : ssd;
  const max = opts.maxShift ?? 4;
  const cost0 = cost(0, 0);
  let best: [number, number] = [0, 0], bestCost = cost0;
  // the search grid: one pixel, or finer (fields: the misfit ripples at half a pixel, and a climb
  // from the best whole-pixel shift can end in the basin next to the match)
  const h = opts.gridStep ?? 1;
  const R = Math.floor(max / h + 1e-9), side = 2 * R + 1, grid = new Float64Array(side * side).fill(Infinity);
  for (let jv = -R; jv <= R; jv++) for (let ju = -R; ju <= R; ju++) {
    const du = ju * h, dv = jv * h;
    if (du * du + dv * dv > max * max) continue;
    const c = (grid[(jv + R) * side + ju + R] = ju === 0 && jv === 0 ? cost0 : cost(du, dv));
    if (c < bestCost) { best = [du, dv]; bestCost = c; }
  }
  // the best other local minimum of the search grid, 2 px or more from the best: a second match
  let second = Infinity;
  for (let jv = -R; jv <= R; jv++) for (let ju = -R; ju <= R; ju++) {
    const c = grid[(jv + R) * side + ju + R];
    if (!(c < second) || Math.hypot(ju * h - best[0], jv * h - best[1]) < 2) continue;
    const at = (x: number, y: number) => (Math.abs(x) > R || Math.abs(y) > R ? Infinity : grid[(y + R) * side + x + R]);
    if (c <= at(ju + 1, jv) && c <= at(ju - 1, jv) && c <= at(ju, jv + 1) && c <= at(ju, jv - 1)) second = c;
  }
  const gridBest = bestCost;
  for (const step of [0.5, 0.25, 0.12, 0.06, 0.03].filter((x) => x < h)) {
    let improved = true;
    while (improved) {
      improved = false;
      for (const [ku, kv] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
        const q: [number, number] = [best[0] + ku * step, best[1] + kv * step];
        if (Math.hypot(q[0], q[1]) > max + 0.5) continue;
        const c = cost(q[0], q[1]);
        if (c < bestCost) { best = q; bestCost = c; improved = true; }
      }
    }
  }
  const e = 0.5, curv = (cp: number, cm: number) => Math.max(0, (cp + cm - 2 * bestCost) / (e * e));
  const hu = curv(cost(best[0] + e, best[1]), cost(best[0] - e, best[1])), hv = curv(cost(best[0], best[1] + e), cost(best[0], best[1] - e));
  const k = g.length / (2 * Math.max(bestCost, 1e-12));
  const weight: [number, number] = [Number.isFinite(hu) ? k * hu : 0, Number.isFinite(hv) ? k * hv : 0];
  return { shift: best, pixels: g.length, overlap: Math.min(1, overlap), cost0, cost: bestCost, weight, secondCost: second, gridCost: gridBest };
}

/** The map cut into patches of about `patchPx` EDS pixels (the residual map's grid). */
export function patchGrid(width: number, height: number, patchPx: number): { cols: number; rows: number; patchPx: [number, number]; boxes: FieldRect[] } {
  const cols = Math.max(1, Math.round(width / patchPx)), rows = Math.max(1, Math.round(height / patchPx));
  const pw = Math.ceil(width / cols), ph = Math.ceil(height / rows);
  const boxes: FieldRect[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    boxes.push({ u0: c * pw, v0: r * ph, width: Math.max(1, Math.min(pw, width - c * pw)), height: Math.max(1, Math.min(ph, height - r * ph)) });
  }
  return { cols, rows, patchPx: [pw, ph], boxes };
}

/**
 * 1 - eta^2 over the part (classes spread over the 4 nearest map pixels by bilinear weight), scaled
 * by the part's grey variance so that it reads as a mean squared misfit like the SSD criterion.
 */
function ratioCost(g: number[], pu: number[], pv: number[], L: { labels: Uint8Array; classes: number }, W: number, H: number) {
  const K = L.classes;
  const n = new Float64Array(K), s = new Float64Array(K), q = new Float64Array(K);
  return (du: number, dv: number) => {
    n.fill(0); s.fill(0); q.fill(0);
    for (let i = 0; i < g.length; i++) {
      const eu = Math.min(W - 1, Math.max(0, pu[i] - du)), ev = Math.min(H - 1, Math.max(0, pv[i] - dv));
      const iu = Math.min(W - 2, Math.floor(eu)), iv = Math.min(H - 2, Math.floor(ev));
      const fu = eu - iu, fv = ev - iv, i0 = iv * W + iu, x = g[i];
      for (let c = 0; c < 4; c++) {
        const k = L.labels[i0 + (c & 1) + (c >> 1) * W], w = (c & 1 ? fu : 1 - fu) * (c >> 1 ? fv : 1 - fv);
        if (k >= K || w === 0) continue;
        n[k] += w; s[k] += w * x; q[k] += w * x * x;
      }
    }
    let N = 0, S = 0, Q = 0, within = 0;
    for (let k = 0; k < K; k++) {
      N += n[k]; S += s[k]; Q += q[k];
      if (n[k] > 0) within += q[k] - (s[k] * s[k]) / n[k];
    }
    if (N < 0.5 * g.length) return Infinity;
    return within / N;
  };
}
