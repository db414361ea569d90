/** Eigenvalues of a symmetric 3x3 matrix, decreasing (cyclic Jacobi, float64). */
export function eigSym3(a00: number, a01: number, a02: number, a11: number, a12: number, a22: number): [number, number, number] {
  const a = [
    [a00, a01, a02],
    [a01, a11, a12],
    [a02, a12, a22],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0]![1]! ** 2 + a[0]![2]! ** 2 + a[1]![2]! ** 2;
    const scale = a[0]![0]! ** 2 + a[1]![1]! ** 2 + a[2]![2]! ** 2 + off;
    if (off <= 1e-30 * scale || off === 0) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const apq = a[p]![q]!;
      if (apq === 0) continue;
      const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k]![p]!;
        const akq = a[k]![q]!;
        a[k]![p] = c * akp - s * akq;
        a[k]![q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p]![k]!;
        const aqk = a[q]![k]!;
        a[p]![k] = c * apk - s * aqk;
        a[q]![k] = s * apk + c * aqk;
      }
    }
  }
  const e = [a[0]![0]!, a[1]![1]!, a[2]![2]!].sort((x, y) => y - x);
  return [e[0]!, e[1]!, e[2]!];
}
