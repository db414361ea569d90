/**
 * The small dense solve the registration's least-squares fits share (basin centres, field basins,
 * the model choice's patch-shift fits): Gauss–Jordan elimination with partial pivoting.
 */

/**
 * Solves the augmented system M = [A | y] (n rows of n + 1) in place; null when a pivot falls
 * below `minPivot` in magnitude (singular for the caller's purpose).
 */
export function solveAugmented(M: (number[] | Float64Array)[], minPivot: number): number[] | null {
  const n = M.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < minPivot) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((r, i) => r[n] / r[i]);
}

/** Solves A x = y (A and y are not changed); null when a pivot falls below `minPivot`. */
export function solveLinear(A: number[][], y: number[], minPivot: number): number[] | null {
  return solveAugmented(A.map((r, i) => [...r, y[i]]), minPivot);
}
