/**
 * Where a high-resolution interior scan sits inside the large low-resolution scan: a similarity
 * with rotation about the scan (z) axis only. Maps an interior voxel index p = (z, y, x) to a
 * low-res voxel index q (both with voxel centres at integers):
 *
 *   q = centre + R_z(angle) · S · (p − c),   c = (shape − 1) / 2 (the interior's centre voxel),
 *
 * S = diag(scale) = hi-res voxel size / low-res voxel size per axis; R_z turns x toward y.
 */
export type Vec3 = [number, number, number];

export interface InteriorPose {
  /** low-res voxel index (z, y, x) of the interior scan's centre */
  centre: Vec3;
  /** rotation about the scan axis (z), degrees, x toward y */
  angleDeg: number;
  /** hi-res voxel edge / low-res voxel edge, (z, y, x) */
  scale: Vec3;
}

/** 3 × 4 affine, rows z, y, x: q = M[:, :3] · p + M[:, 3] */
export type Affine3 = [number, number, number, number, number, number, number, number, number, number, number, number];

export function poseAffine(pose: InteriorPose, shape: Vec3): Affine3 {
  const t = (pose.angleDeg * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t);
  const [sz, sy, sx] = pose.scale;
  const [hz, hy, hx] = shape.map((n) => (n - 1) / 2);
  const [cz, cy, cx] = pose.centre;
  // rows: z' = sz (pz − hz); y' = s·sx (px − hx) + c·sy (py − hy); x' = c·sx (px − hx) − s·sy (py − hy)
  const m: Affine3 = [sz, 0, 0, 0, 0, c * sy, s * sx, 0, 0, -s * sy, c * sx, 0];
  m[3] = cz - m[0] * hz;
  m[7] = cy - m[5] * hy - m[6] * hx;
  m[11] = cx - m[9] * hy - m[10] * hx;
  return m;
}

export function applyAffine3(m: Affine3, z: number, y: number, x: number): Vec3 {
  return [m[0] * z + m[1] * y + m[2] * x + m[3], m[4] * z + m[5] * y + m[6] * x + m[7], m[8] * z + m[9] * y + m[10] * x + m[11]];
}

export function invertAffine3(m: Affine3): Affine3 {
  const [a, b, c, , d, e, f, , g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const inv = [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
  const t = [m[3], m[7], m[11]];
  const out = [] as number[];
  for (let r = 0; r < 3; r++) out.push(inv[3 * r]!, inv[3 * r + 1]!, inv[3 * r + 2]!, -(inv[3 * r]! * t[0]! + inv[3 * r + 1]! * t[1]! + inv[3 * r + 2]! * t[2]!));
  return out as Affine3;
}

/** Low-res bounding box (integer voxel range, inclusive start, exclusive end) of the interior's extent. */
export function footprintBox(m: Affine3, shape: Vec3, margin = 0): { start: Vec3; end: Vec3 } {
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const z of [-0.5, shape[0] - 0.5]) for (const y of [-0.5, shape[1] - 0.5]) for (const x of [-0.5, shape[2] - 0.5]) {
    const q = applyAffine3(m, z, y, x);
    for (let a = 0; a < 3; a++) { lo[a] = Math.min(lo[a]!, q[a]!); hi[a] = Math.max(hi[a]!, q[a]!); }
  }
  return {
    start: lo.map((v) => Math.floor(v + 0.5) - margin) as Vec3,
    end: hi.map((v) => Math.ceil(v - 0.5) + 1 + margin) as Vec3,
  };
}
