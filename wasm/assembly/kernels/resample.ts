// The 2x grid of feature set version 2 (lib/features/coarse.ts): a Gaussian pre-filter sampled
// at every other voxel (convDown), and linear interpolation back to every voxel (up2).
// Arrays are float32, z-major. Each output value is a fixed sequence of operations on its
// inputs (no dependence on where it sits in a row or brick), so any brick gives the same bits.

/**
 * 1D correlation along `axis`, keeping every other sample along that axis:
 *   dst[z][y][x] = sum_{k=-r..r} w[k + r] * src[Z][Y][X]
 * with the axis coordinate 2 * i + o_axis + k and the other two i + o (i the dst index).
 * Vectorised along x when `axis` is not x.
 */
export function convDown(
  src: usize, sY: i32, sX: i32,
  dst: usize, dZ: i32, dY: i32, dX: i32,
  oz: i32, oy: i32, ox: i32,
  axis: i32, w: usize, r: i32,
): void {
  const st: usize = <usize>(axis == 0 ? sY * sX : axis == 1 ? sX : 1) << 2;
  const fz = axis == 0 ? 2 : 1;
  const fy = axis == 1 ? 2 : 1;
  for (let z = 0; z < dZ; z++) {
    for (let y = 0; y < dY; y++) {
      const drow: usize = dst + ((<usize>(z * dY + y) * <usize>dX) << 2);
      const zs = z * fz + oz;
      const ys = y * fy + oy;
      const srow: usize = src + ((<usize>(zs * sY + ys) * <usize>sX + <usize>ox) << 2);
      let x = 0;
      if (axis != 2) {
        for (; x + 4 <= dX; x += 4) {
          let p: usize = srow + (<usize>x << 2) - <usize>r * st;
          let a = f32x4.splat(0);
          for (let k = 0; k <= 2 * r; k++) {
            a = f32x4.add(a, f32x4.mul(v128.load32_splat(w + (<usize>k << 2)), v128.load(p)));
            p += st;
          }
          v128.store(drow + (<usize>x << 2), a);
        }
        for (; x < dX; x++) {
          let p: usize = srow + (<usize>x << 2) - <usize>r * st;
          let a: f32 = 0;
          for (let k = 0; k <= 2 * r; k++) {
            a += load<f32>(w + (<usize>k << 2)) * load<f32>(p);
            p += st;
          }
          store<f32>(drow + (<usize>x << 2), a);
        }
      } else {
        for (; x < dX; x++) {
          let p: usize = srow + (<usize>(2 * x - r) << 2);
          let a: f32 = 0;
          for (let k = 0; k <= 2 * r; k++) {
            a += load<f32>(w + (<usize>k << 2)) * load<f32>(p);
            p += 4;
          }
          store<f32>(drow + (<usize>x << 2), a);
        }
      }
    }
  }
}

/**
 * Linear interpolation x2 along `axis`: dst index j along the axis reads t = j + par of the
 * source grid in half steps: t even -> src[t / 2], t odd -> 0.5 * (src[(t - 1) / 2] + src[(t + 1) / 2]).
 * The other two axes are copied one to one (the dst and src extents agree on them).
 */
const HALF4 = memory.data<f32>([0.5, 0.5, 0.5, 0.5], 16);

export function up2(src: usize, sY: i32, sX: i32, dst: usize, dZ: i32, dY: i32, dX: i32, axis: i32, par: i32): void {
  const half = f32x4.splat(0.5);
  for (let z = 0; z < dZ; z++) {
    for (let y = 0; y < dY; y++) {
      const drow: usize = dst + ((<usize>(z * dY + y) * <usize>dX) << 2);
      if (axis == 2) {
        const srow: usize = src + ((<usize>(z * sY + y) * <usize>sX) << 2);
        // 8 voxels at a time: source samples a = s[i..i+3], their right neighbours b = s[i+1..i+4],
        // m = 0.5 (a + b), interleaved a0 m0 a1 m1 | a2 m2 a3 m3 (the operations of the scalar
        // loop below, which starts where this stops). With par = 1 the first voxel is a mean.
        let x = 0;
        if (par == 1 && dX > 0) {
          store<f32>(drow, <f32>0.5 * (load<f32>(srow) + load<f32>(srow + 4)));
          x = 1;
        }
        // voxels x .. x + 7 (x + par even) read source samples i = (x + par) / 2 .. i + 4: the
        // vector loop runs while both stay inside the row
        for (; x + 8 <= dX && ((x + par) >> 1) + 5 <= sX; x += 8) {
          const i = (x + par) >> 1;
          const a = v128.load(srow + (<usize>i << 2));
          const b = v128.load(srow + (<usize>(i + 1) << 2));
          const m = f32x4.mul(v128.load(HALF4), f32x4.add(a, b));
          v128.store(drow + (<usize>x << 2), v128.shuffle<f32>(a, m, 0, 4, 1, 5));
          v128.store(drow + (<usize>x << 2), v128.shuffle<f32>(a, m, 2, 6, 3, 7), 16);
        }
        for (; x < dX; x++) {
          const t = x + par;
          const i = t >> 1;
          let v: f32;
          if ((t & 1) == 0) v = load<f32>(srow + (<usize>i << 2));
          else v = <f32>0.5 * (load<f32>(srow + (<usize>i << 2)) + load<f32>(srow + (<usize>(i + 1) << 2)));
          store<f32>(drow + (<usize>x << 2), v);
        }
      } else {
        // along z or y: whole rows, either a copy or the mean of two rows
        const t = (axis == 0 ? z : y) + par;
        const i = t >> 1;
        const r0: usize = axis == 0 ? src + ((<usize>(i * sY + y) * <usize>sX) << 2) : src + ((<usize>(z * sY + i) * <usize>sX) << 2);
        if ((t & 1) == 0) {
          let x = 0;
          for (; x + 4 <= dX; x += 4) v128.store(drow + (<usize>x << 2), v128.load(r0 + (<usize>x << 2)));
          for (; x < dX; x++) store<f32>(drow + (<usize>x << 2), load<f32>(r0 + (<usize>x << 2)));
        } else {
          const r1: usize = r0 + (axis == 0 ? (<usize>sY * <usize>sX) << 2 : <usize>sX << 2);
          let x = 0;
          for (; x + 4 <= dX; x += 4) {
            v128.store(drow + (<usize>x << 2), f32x4.mul(half, f32x4.add(v128.load(r0 + (<usize>x << 2)), v128.load(r1 + (<usize>x << 2)))));
          }
          for (; x < dX; x++) store<f32>(drow + (<usize>x << 2), <f32>0.5 * (load<f32>(r0 + (<usize>x << 2)) + load<f32>(r1 + (<usize>x << 2))));
        }
      }
    }
  }
}
