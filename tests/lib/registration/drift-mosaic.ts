/**
 * A stitched EDS map whose field offsets follow stage drift (a smooth function of the field's
 * position on the grid, plus a little jitter), for the per-field registration tests: the
 * generator's own mosaic (lib/synthetic/eds.ts distortEdsMap) draws each field's offset alone.
 * Same rock and pose as `sample`; `truthAt` is the per-pixel truth.
 */
import { applyAffine2to3 } from '../../../lib/coords';
import { regularFields } from '../../../lib/registration/refine-fields';
import type { FieldRect } from '../../../lib/registration/types';
import { makeEdsMap } from '../../../lib/synthetic/eds';
import { buildFabric } from '../../../lib/synthetic/grains';
import { resolveOptions } from '../../../lib/synthetic/options';
import { mulberry32 } from '../../../lib/synthetic/prng';
import { edsSize, makeEdsToVoxel, surfacePlane } from '../../../lib/synthetic/surface';
import type { SyntheticSample } from '../../../lib/synthetic/types';

export function driftMosaic(sample: SyntheticSample, o: { coverage: number; cols: number; rows: number; shiftAt: (c: number, r: number) => [number, number] }) {
  const opt = resolveOptions({ ...sample.truth.params, eds: { ...sample.truth.params.eds, widthPx: undefined, heightPx: undefined, coverage: o.coverage } });
  const fabric = buildFabric(opt, mulberry32(Math.imul(opt.seed, 0x9e3779b1) + 1));
  const [width, height] = edsSize(opt);
  const base = makeEdsToVoxel(opt, surfacePlane(opt), width, height);
  const fw = Math.ceil(width / o.cols), fh = Math.ceil(height / o.rows);
  const fields = regularFields(width, height, o.cols, o.rows).map((f) => ({ ...f, shiftPx: o.shiftAt(Math.round(f.u0 / fw), Math.round(f.v0 / fh)) }));
  const fieldOf = (u: number, v: number) => {
    const ru = Math.min(width - 1, Math.max(0, Math.round(u))), rv = Math.min(height - 1, Math.max(0, Math.round(v)));
    return fields.find((f) => ru >= f.u0 && ru < f.u0 + f.width && rv >= f.v0 && rv < f.v0 + f.height);
  };
  const truthAt = (u: number, v: number) => {
    const f = fieldOf(u, v);
    return applyAffine2to3(base, u + (f?.shiftPx[0] ?? 0), v + (f?.shiftPx[1] ?? 0));
  };
  const eds = makeEdsMap(opt, fabric, truthAt, [width, height], mulberry32(Math.imul(opt.seed, 0x9e3779b1) + 3));
  const layout: FieldRect[] = fields.map(({ shiftPx: _s, ...f }) => f);
  return { eds, truthAt, fields, layout };
}

/** Stage drift over a cols x rows grid: a smooth swing of up to `amp` px plus `jitter` px per field (seeded). */
export function stageDrift(cols: number, rows: number, amp: number, jitter: number, seed = 5): (c: number, r: number) => [number, number] {
  const rng = mulberry32(seed);
  const ph = [rng() * 6.28, rng() * 6.28];
  const j = Array.from({ length: cols * rows }, () => [(rng() - 0.5) * 2 * jitter, (rng() - 0.5) * 2 * jitter]);
  return (c, r) => {
    const x = c / Math.max(1, cols - 1), y = r / Math.max(1, rows - 1);
    return [amp * Math.sin(2 * x + y + ph[0]) + j[r * cols + c][0], amp * Math.cos(x + 1.5 * y + ph[1]) + j[r * cols + c][1]];
  };
}
