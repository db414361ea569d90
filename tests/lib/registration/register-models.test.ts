/**
 * Issue 19: registration of EDS maps that are not rigid pictures of the surface, against the
 * generator's per-pixel truth (lib/synthetic/eds.ts distortEdsMap). Automatic model choice keeps
 * the similarity on a rigid map, takes the affine for a 2 % shear or stretch, and per-field shifts
 * take the stitching errors (up to 3 px) out of a mosaic.
 */
import { describe, expect, it } from 'vitest';
import { applyAffine2to3, invertAffine2 } from '../../../lib/coords';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { registrationErrorAt } from '../../../lib/registration/quality';
import { edsPointToVoxel, fieldAt } from '../../../lib/registration/refine-fields';
import { transferLabels } from '../../../lib/registration/transfer-labels';
import { distortEdsMap, type EdsDistortion } from '../../../lib/synthetic/eds';
import { smallSample } from './helpers';

/** per registration case: one took over 120 s wall at load 24 on 2 cores (~10 s CPU) */
const SLOW = 300_000;

/** A sample whose acquisition follows from the seed (rotation, mirror, tilt, offset), with the map distorted. */
function distorted(seed: number, ratio: number, d: EdsDistortion) {
  const s = smallSample({
    seed, surfaceDepthVox: 4 + (seed % 4), tiltDeg: 1 + (seed % 3), tiltAzimuthDeg: 37 * seed,
    eds: { rotationDeg: 53 * seed, pixelUm: 2 * ratio, mirrored: seed % 2 === 0, offsetVox: { x: ((seed * 7) % 11) - 5, y: ((seed * 5) % 9) - 4 } },
  });
  return { s, d: distortEdsMap(s, d) };
}

async function registerAndMeasure(seed: number, ratio: number, d: EdsDistortion, withFields = false) {
  const { s, d: m } = distorted(seed, ratio, d);
  const fields = withFields ? m.fields!.map(({ shiftPx: _s, ...f }) => f) : undefined;
  const r = await registerEdsToVolume(s.volume, m.eds, { inWorker: false, fields });
  const e = registrationErrorAt((u, v) => edsPointToVoxel(r, u, v), m.truthAt, m.eds.width, m.eds.height, s.volume.meta.shape);
  expect(e.n).toBeGreaterThan(1000);
  return { r, e, m, s };
}

describe('distorted and stitched EDS maps (generator truth)', () => {
  it('the generator without distortion reproduces the rigid truth', () => {
    const { s, d } = distorted(21, 1.2, {});
    for (const [u, v] of [[0, 0], [40, 7], [13, 55]] as const) {
      const a = d.truthAt(u, v), b = applyAffine2to3(s.truth.edsToVoxel, u, v);
      for (let k = 0; k < 3; k++) expect(a[k]).toBeCloseTo(b[k], 9);
    }
    expect(d.eds.labels).toEqual(s.eds.labels);
  });

  it('rigid map, 60 % coverage: auto keeps the similarity at its error', async () => {
    const { r, e } = await registerAndMeasure(21, 1.2, { coverage: 0.6 });
    expect(r.model).toBe('similarity');
    expect(r.modelChoice?.reason).toMatch(/^similarity: /);
    expect(r.candidates?.affine).toBeDefined();
    expect(e.mean).toBeLessThanOrEqual(0.1);
    expect(e.max).toBeLessThanOrEqual(0.3);
  }, SLOW);

  it('rigid map, 100 % coverage: the kept similarity is polished without the slab\'s edge ring, mean <= 0.05 voxel', async () => {
    const { r, e } = await registerAndMeasure(13, 0.7, { coverage: 1 });
    expect(r.model).toBe('similarity');
    expect(r.modelChoice?.reason).toMatch(/polished on the slab extrapolated to the surface without its edge ring \(1\.\d % of the map on it/);
    // stop 29 (similarity-polish.ts): 0.086/0.14 -> 0.025/0.04 voxel; stop 30 (extrapolated slab, basin centre) 0.037/0.07
    expect(e.mean).toBeLessThanOrEqual(0.05);
    expect(e.max).toBeLessThanOrEqual(0.1);
  }, SLOW);

  it('rigid map, 40 % coverage (51 x 51 pixels): auto keeps the similarity at its error', async () => {
    const { r, e } = await registerAndMeasure(11, 1, { coverage: 0.4 });
    expect(r.model).toBe('similarity');
    expect(e.mean).toBeLessThanOrEqual(0.15);
    expect(e.max).toBeLessThanOrEqual(0.3);
  }, SLOW);

  it.each([
    ['2 % stretch along u, 70 % coverage', 12, 1, { coverage: 0.7, stretch: [0.02, 0] }],
    ['2 % shear, 80 % coverage', 23, 0.8, { coverage: 0.8, shear: -0.02 }],
    ['3 % shear, 100 % coverage', 13, 0.7, { coverage: 1, shear: 0.03 }],
    ['3 % shear, 40 % coverage', 15, 1, { coverage: 0.4, shear: 0.03 }],
    ['3 % stretch along v, 40 % coverage', 17, 1, { coverage: 0.4, stretch: [0, 0.03] }],
    // stop 30: 0.176/0.41 before the polish on the slab extrapolated to the surface, 0.118/0.27 with it
    ['2 % shear, 60 % coverage', 24, 1, { coverage: 0.6, shear: 0.02 }],
  ] as [string, number, number, EdsDistortion][])('%s: auto keeps the affine, mean <= 0.15, max <= 0.5 voxel', async (_name, seed, ratio, d) => {
    const { r, e } = await registerAndMeasure(seed, ratio, d);
    expect(r.model).toBe('affine');
    // the kept affine's own area and polish (affine-polish.ts), on the slab extrapolated to the surface
    expect(r.modelChoice?.reason).toMatch(/polished at area [+-]\d+\.\d\d % \(mean of the patch shifts'.*on the slab extrapolated to the surface/);
    expect(r.modelChoice?.affineStretch?.[0]).toBeGreaterThan(1.005);
    expect(r.residual?.misfitVox.length).toBe(r.residual!.cols * r.residual!.rows);
    expect(e.mean).toBeLessThanOrEqual(0.15);
    expect(e.max).toBeLessThanOrEqual(0.5);
  }, SLOW);

  it('1 % stretch along v, 100 % coverage (183 px, seed 38): the whole-map gain bar falls with the map\'s size, the affine is kept, mean <= 0.15, max <= 0.5 voxel', async () => {
    const { r, e } = await registerAndMeasure(38, 0.7, { coverage: 1, stretch: [0, 0.01] });
    expect(r.model).toBe('affine');
    expect(r.modelChoice?.reason).toMatch(/^affine: it explains the whole map clearly better \(gain >= 0\.0077 for 183 x 183 pixels/);
    // the polish leaves out the slab's edge ring (affine-polish.ts): 0.107 -> 0.072 on this 100 % map
    expect(e.mean).toBeLessThanOrEqual(0.1);
    expect(e.max).toBeLessThanOrEqual(0.5);
  }, SLOW);

  it('stitched mosaic (3 x 2 fields, shifts up to 3 px): per-field refinement, mean <= 0.2 voxel', async () => {
    const { r, e, m } = await registerAndMeasure(8, 0.7, { coverage: 0.9, mosaic: { cols: 3, rows: 2, maxShiftPx: 3 } }, true);
    expect(r.model).toBe('fields');
    expect(r.fields?.filter((f) => f.moved).length).toBeGreaterThanOrEqual(4);
    expect(r.candidates?.fields?.fields.length).toBe(m.fields!.length);
    expect(e.mean).toBeLessThanOrEqual(0.2);
    // the same map registered as one similarity is worse
    const sim = r.candidates!.similarity.edsToSlab;
    const { composeAffine2to3 } = await import('../../../lib/coords');
    const es = registrationErrorAt((u, v) => applyAffine2to3(composeAffine2to3(r.slabToVoxel, sim), u, v), m.truthAt, m.eds.width, m.eds.height, [24, 128, 128]);
    expect(es.mean).toBeGreaterThan(e.mean + 0.1);
  }, SLOW);

  it('1 % shear, 40 % coverage (51 x 51 pixels): the similarity is kept, polished on the slab extrapolated to the surface, mean <= 0.15, max <= 0.5 voxel', async () => {
    const { r, e } = await registerAndMeasure(11, 1, { coverage: 0.4, shear: 0.01 });
    expect(r.model).toBe('similarity');
    expect(r.modelChoice?.reason).toMatch(/polished on the slab extrapolated to the surface without its edge ring \(0\.0 % of the map on it/);
    // stop 30 (similarity-polish.ts: the basin centre on the extrapolated slab): 0.217/0.48 -> 0.109/0.23
    expect(e.mean).toBeLessThanOrEqual(0.15);
    expect(e.max).toBeLessThanOrEqual(0.5);
  }, SLOW);

  // Issue 19's targets that are NOT met yet (`npm run bench -- register-distorted` has the numbers).
  // Not the surface: the best 2D affine on the slab these maps were registered on is 0.002-0.028
  // voxel from the truth. On these 51-64 px maps every criterion measured (the correlation ratio
  // with bilinear or 3x3-supersampled nearest class, mutual information with 16-64 bins, least
  // squares against the blurred class-mean map, slabs 0.5-1 voxel deeper or extrapolated to the
  // surface, patch shifts fitted by least squares) has its optimum 0.1-0.5 voxel from the truth,
  // and the patch shifts (0.5-1 px noise) cannot tell a 1 % distortion from a rigid map.
  // it.fails: these start failing (= pass the target) once fixed.
  // stop 30: the requested affine with the kept affine's polish reads 0.203/0.46 here (the similarity 0.257/0.57)
  it.fails.each([
    ['+1/-1 % stretch, 50 % coverage', 22, 1, { coverage: 0.5, stretch: [0.01, -0.01] }],
  ] as [string, number, number, EdsDistortion][])('not met yet: %s, mean <= 0.15, max <= 0.5 voxel', async (_name, seed, ratio, d) => {
    const { e } = await registerAndMeasure(seed, ratio, d);
    expect(e.mean).toBeLessThanOrEqual(0.15);
    expect(e.max).toBeLessThanOrEqual(0.5);
  }, SLOW);

  it('3 x 3 mosaic at 1 µm EDS: the field with nothing to match is not placed, its labels do not train; the labels that do: mean <= 0.2 voxel', async () => {
    const { r, e, m, s } = await registerAndMeasure(6, 0.5, { coverage: 0.8, mosaic: { cols: 3, rows: 3, maxShiftPx: 3 } }, true);
    expect(r.model).toBe('fields');
    expect(r.modelChoice?.reason).toMatch(/B3: nothing to match on a map with stitching errors, not placed: its labels are left out of training/);
    const b3 = r.fields?.find((f) => f.name === 'B3');
    expect(b3?.moved).toBe(false);
    expect(b3?.unplaced).toBe(true);
    expect(r.fields?.filter((f) => f.unplaced)).toHaveLength(1);
    // the error of the labels that train (every pixel of the placed fields): 0.146 measured (0.194
    // before the slab's outermost pixel ring was left out of the field matches, refine-fields.ts)
    const placed = registrationErrorAt((u, v) => edsPointToVoxel(r, u, v), (u, v) => (fieldAt(r.fields!, u, v)?.unplaced ? [-1, -1, -1] : m.truthAt(u, v)), m.eds.width, m.eds.height, s.volume.meta.shape);
    expect(placed.n).toBeGreaterThan(0.8 * e.n);
    expect(placed.mean).toBeLessThanOrEqual(0.2);
    // over the whole map, B3 included (0.94 voxel off on the global transform): 0.236 measured. What
    // is left in the placed fields: fields with a distinct match still read 0.1-1 px off the truth
    // (A3 1 px on this map and on the same map without stitching errors: the content of the field)
    expect(e.mean).toBeLessThanOrEqual(0.33);
    expect(e.max).toBeLessThanOrEqual(1.2);
    // and B3's pixels give no training labels
    const sl = transferLabels(m.eds, r, r.slab, Object.fromEntries(m.eds.legend.map((p) => [p.id, 1])), { erodeRadius: 0 });
    const inv = invertAffine2(r.edsToSlab);
    let inB3 = 0, labelled = 0;
    for (let v = 0; v < sl.height; v++) for (let u = 0; u < sl.width; u++) {
      const f = fieldAt(r.fields!, inv[0] * u + inv[1] * v + inv[2], inv[3] * u + inv[4] * v + inv[5]);
      if (f?.name !== 'B3') continue;
      inB3++;
      if (sl.labels[v * sl.width + u]) labelled++;
    }
    expect(inB3).toBeGreaterThan(100);
    expect(labelled).toBe(0);
  }, SLOW);

  it('the same 3 x 3 mosaic without stitching errors: no field moves, none is left out, the error stays at the rigid map\'s', async () => {
    const { r, e } = await registerAndMeasure(6, 0.5, { coverage: 0.8, mosaic: { cols: 3, rows: 3, maxShiftPx: 0 } }, true);
    expect(r.fields?.filter((f) => f.moved) ?? []).toHaveLength(0);
    expect(r.fields?.filter((f) => f.unplaced) ?? []).toHaveLength(0);
    // 0.073 measured; 0.157 when fields moved at 1.5 standard errors alone (their content's bias, 0.5-0.8 px)
    expect(e.mean).toBeLessThanOrEqual(0.1);
    expect(e.max).toBeLessThanOrEqual(0.3);
  }, SLOW);

  it('4 x 4 mosaic, fields 3.5 px off the global transform: found by a search around the moved fields\' median', async () => {
    const { r, e } = await registerAndMeasure(20, 0.7, { coverage: 0.9, mosaic: { cols: 4, rows: 4, maxShiftPx: 3, seed: 2 } }, true);
    expect(r.model).toBe('fields');
    for (const name of ['A4', 'D2']) expect(r.fields?.find((f) => f.name === name)?.moved).toBe(true);
    // 0.278 measured with the global transform's scale and rotation from the fields' content and
    // layout (mosaic-layout.ts, mosaic-linear.ts: the similarity was 1.44 % off in scale here, now
    // 0.06 %), 0.269 with the stop-28 layout alone, 0.339 without either; 0.60 with A4 and D2 left on
    // the global transform (their match at the edge of a 4 px search). What is left: D1-D3 0.9-1 px off the truth
    expect(e.mean).toBeLessThanOrEqual(0.3);
  }, SLOW);
});
