/**
 * The centre of a whole-map criterion's basin (issue 19, stop 30): a quadratic fitted by least
 * squares to the criterion sampled about a pose, and its maximum. The registration's criterion is
 * rough at a tenth of a pixel (bilinear class shares, boundary pixels): a hill climb ends at
 * whichever ripple of the basin it meets first: climbs from the true transform and from the kept
 * affine ended with errors up to 0.08 voxel apart on the same map (stop 30, docs/registration-
 * models.md; s76 0.166 / 0.093). The fitted centre does not depend on the start (errors within
 * 0.004 voxel from either start on 25 maps).
 *
 * Modes as affine-climb.ts's, in pixels at the map's edge about the map centre: the two shifts,
 * rotation, anisotropic stretch, symmetric shear, and the isotropic scale when the area is free.
 * Samples: the start, ±r/2 and ±r on each mode, and the four diagonals of each pair of modes at r
 * (61 scores with 5 modes, 85 with 6); the quadratic's maximum is taken when the fit is concave, a
 * step of at most 2r, and the fit is made again about it (`rounds`).
 */
import { composeAffine2, type Affine2 } from '../coords';
import { throwIfAborted } from '../errors';
import { withDeterminant } from './affine-climb';
import { solveLinear } from './solve-linear';

const det = (m: Affine2) => m[0] * m[4] - m[1] * m[3];

/** m moved by the mode vector x (pixels at the map's edge) about the map centre; at determinant d0 unless null. */
function moveBy(m: Affine2, x: number[], mw: number, mh: number, d0: number | null): Affine2 {
  const cu = (mw - 1) / 2, cv = (mh - 1) / 2, h = Math.max(1, Math.max(mw, mh) / 2);
  const s = (x[5] ?? 0) / h;
  const x3 = x[3] ?? 0, x4 = x[4] ?? 0;
  const a = x3 / h + s, d = -x3 / h + s, b = (-x[2] + x4) / h, c = (x[2] + x4) / h;
  const D: Affine2 = [1 + a, b, x[0], c, 1 + d, x[1]];
  D[2] += cu - D[0] * cu - D[1] * cv;
  D[5] += cv - D[3] * cu - D[4] * cv;
  const r = composeAffine2(m, D);
  return d0 === null ? r : withDeterminant(r, d0, cu, cv);
}

/** Solves A x = y; null when singular. */
const solve = (A: number[][], y: number[]): number[] | null => solveLinear(A, y, 1e-14);

/** Whether the symmetric matrix S is positive definite (Cholesky). */
function positiveDefinite(S: number[][]): boolean {
  const n = S.length, L = S.map((r) => r.map(() => 0));
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = S[i][j];
    for (let t = 0; t < j; t++) s -= L[i][t] * L[j][t];
    if (i === j) {
      if (!(s > 0)) return false;
      L[i][i] = Math.sqrt(s);
    } else L[i][j] = s / L[j][j];
  }
  return true;
}

export interface BasinOptions {
  /** sampling radius, pixels at the map's edge (default 0.5) */
  r?: number;
  /** fits, each about the last one's maximum (default 2) */
  rounds?: number;
  /** hold the determinant of `area` (default: of the start); false: the isotropic scale is a sixth mode */
  area?: Affine2 | false;
  /** the shifts and the rotation only (a similarity at its own area) */
  rigid?: boolean;
  signal?: AbortSignal;
}

/**
 * The maximum of a quadratic fitted to score() about `start` (see the header). `fitted` is false
 * when a round's fit was not concave (the last concave round's pose is returned, or the start).
 */
export function basinCentre(score: (m: Affine2) => number, start: Affine2, mw: number, mh: number, o: BasinOptions = {}): { edsToSlab: Affine2; fitted: boolean } {
  const r = o.r ?? 0.5, free = o.area === false, K = o.rigid && !free ? 3 : free ? 6 : 5;
  const d0 = free ? null : det((o.area || undefined) ?? start);
  let base = d0 === null ? start : withDeterminant(start, d0, (mw - 1) / 2, (mh - 1) / 2);
  const pts: number[][] = [new Array(K).fill(0)];
  for (let i = 0; i < K; i++) for (const s of [-1, -0.5, 0.5, 1]) {
    const x = new Array(K).fill(0);
    x[i] = s * r;
    pts.push(x);
  }
  for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) for (const [si, sj] of [[1, 1], [1, -1], [-1, 1], [-1, -1]]) {
    const x = new Array(K).fill(0);
    x[i] = (si * r) / Math.SQRT2; x[j] = (sj * r) / Math.SQRT2;
    pts.push(x);
  }
  // features: 1, x_i, x_i x_j (i <= j)
  const feat = (x: number[]) => {
    const f = [1, ...x];
    for (let i = 0; i < K; i++) for (let j = i; j < K; j++) f.push(x[i] * x[j]);
    return f;
  };
  const P = feat(pts[0]).length;
  for (let round = 0; round < (o.rounds ?? 2); round++) {
    throwIfAborted(o.signal);
    const A = Array.from({ length: P }, () => new Array(P).fill(0)), y = new Array(P).fill(0);
    for (const x of pts) {
      const f = feat(x), s = score(moveBy(base, x, mw, mh, d0));
      for (let i = 0; i < P; i++) {
        y[i] += f[i] * s;
        for (let j = 0; j < P; j++) A[i][j] += f[i] * f[j];
      }
    }
    const q = solve(A, y);
    if (!q) return { edsToSlab: base, fitted: false };
    // score ~ c + g.x + x' H x / 2: the maximum solves (-H) x = g, -H positive definite
    const g = q.slice(1, 1 + K), negH = Array.from({ length: K }, () => new Array(K).fill(0));
    let k = 1 + K;
    for (let i = 0; i < K; i++) for (let j = i; j < K; j++) {
      const c = q[k++];
      if (i === j) negH[i][i] = -2 * c;
      else { negH[i][j] = -c; negH[j][i] = -c; }
    }
    const x = positiveDefinite(negH) ? solve(negH, g) : null;
    if (!x) return { edsToSlab: base, fitted: false };
    const len = Math.hypot(...x), k2 = len > 2 * r ? (2 * r) / len : 1;
    base = moveBy(base, x.map((v) => v * k2), mw, mh, d0);
  }
  return { edsToSlab: base, fitted: true };
}
