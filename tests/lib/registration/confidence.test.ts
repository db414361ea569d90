/**
 * The registration confidence (lib/registration/confidence.ts): stored by registerEdsToVolume, from
 * truth-free readings only. A right automatic registration is confirmed; a map given a wrong pixel
 * size (0.6x: 82 voxels off on this sample) is doubtful. Before, the registration carried no verdict
 * and nothing stopped on it. The rule's thresholds are pinned at their measured edges too.
 */
import { describe, expect, it } from 'vitest';
import { CONFIDENCE_RULE, isDoubtful, miRatioOf, registrationConfidence } from '../../../lib/registration/confidence';
import { registerEdsToVolume } from '../../../lib/registration/register-eds';
import { registrationError } from '../../../lib/registration/quality';
import { applyAffine2to3 } from '../../../lib/coords';
import { regularFields } from '../../../lib/registration/refine-fields';
import { generateSandstone } from '../../../lib/synthetic';

// the measurement's style A sample (docs/registration-confidence.md), seed 17
const sample = (seed = 17) => generateSandstone({
  shape: [24, 128, 128], voxelUm: 2, seed, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 37 * seed,
  eds: { rotationDeg: 53 * seed, pixelUm: 1.4, mirrored: false, offsetVox: { x: ((seed * 7) % 11) - 5, y: ((seed * 5) % 9) - 4 } },
});
const errorOf = (s: ReturnType<typeof sample>, r: { edsToVoxel: Parameters<typeof registrationError>[0] }) =>
  registrationError(r.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape).mean;

describe('registration confidence', () => {
  it('confirms a right automatic registration and doubts one at a wrong pixel size', async () => {
    const s = sample();
    const right = await registerEdsToVolume(s.volume, s.eds, { inWorker: false });
    expect(registrationError(right.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape).mean).toBeLessThan(0.5);
    expect(right.quality.confidence).toMatchObject({ verdict: 'confirmed' });
    expect(right.quality.confidence!.readings.heldOutRmsVox!).toBeLessThan(CONFIDENCE_RULE.heldOutVox);
    expect(right.quality.confidence!.readings.miRatio!).toBeGreaterThan(2);
    expect(right.quality.secondMi).toBeLessThan(right.quality.coarseMi!);

    const wrongMap = { ...s.eds, pixelSizeUm: 0.6 * s.eds.pixelSizeUm };
    const wrong = await registerEdsToVolume(s.volume, wrongMap, { inWorker: false });
    // truth: the map's pixel (u, v) still shows the rock at s.truth.edsToVoxel(u, v)
    expect(registrationError(wrong.edsToVoxel, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape).mean).toBeGreaterThan(20);
    expect(wrong.quality.confidence).toMatchObject({ verdict: 'doubtful' });
    expect(isDoubtful(wrong.quality)).toBe(true);
    expect(wrong.quality.confidence!.reason).toMatch(/agree with it to \d\.\d\d voxel only|could not be measured/);
    expect(wrong.quality.confidence!.readings.miRatio!).toBeLessThan(CONFIDENCE_RULE.miRatio);
  }, 120_000);

  it('the rule at its edges', () => {
    const c = (heldOutRmsVox: number | null, mi = 1, secondMi = 1) => registrationConfidence({ heldOutRmsVox, patches: 10, coarseMi: mi, secondMi, coverage: 0.9 }).verdict;
    expect(c(0.7)).toBe('confirmed'); // small held-out error alone
    expect(c(0.71)).toBe('doubtful'); // above it, with no clear best pose
    expect(c(1.2, 1.35, 1)).toBe('confirmed'); // with a clear best pose
    expect(c(1.2, 1.34, 1)).toBe('doubtful');
    expect(c(1.21, 1.99, 1)).toBe('doubtful');
    expect(c(2, 2, 1)).toBe('confirmed'); // a far better best pose (a stitched map's fields disagree)
    expect(c(2.01, 10, 1)).toBe('doubtful');
    expect(c(null, 10, 1)).toBe('doubtful'); // not measured
    expect(miRatioOf(0.5, 0)).toBe(99); // no other pose overlapped: capped, finite for JSON
    expect(miRatioOf(undefined, undefined)).toBeNull();
    // landmark pairs confirm when they agree, whatever the patches say
    expect(registrationConfidence({ heldOutRmsVox: null, coverage: 0.5, landmarkResiduals: [1, 2, 1.5] }).verdict).toBe('confirmed');
    // landmark pairs that disagree: doubtful unless the map's held-out parts confirm on their own (imprecise clicks)
    const off = registrationConfidence({ heldOutRmsVox: 0.71, coverage: 0.5, landmarkResiduals: [4, 5, 3] });
    expect(off.verdict).toBe('doubtful');
    expect(off.reason).toMatch(/3 landmark pairs disagree with it by 4\.08 voxels \(RMS\) and the parts of the map held out of its fit agree with it only to 0\.71 voxel/);
    expect(registrationConfidence({ heldOutRmsVox: null, coverage: 0.5, landmarkResiduals: [4, 5, 3] }).verdict).toBe('doubtful');
    const clicks = registrationConfidence({ heldOutRmsVox: 0.7, coverage: 0.5, landmarkResiduals: [4, 5, 3] });
    expect(clicks.verdict).toBe('confirmed');
    expect(clicks.reason).toMatch(/agree with it to 0\.70 voxel; the 3 landmark pairs are 4\.08 voxels \(RMS\) from it/);
    // a per-field registration needs the clear best pose after a search, whatever its held-out error
    const f = (heldOutRmsVox: number, mi: number) => registrationConfidence({ heldOutRmsVox, patches: 10, coarseMi: mi, secondMi: 1, coverage: 0.9, fields: true }).verdict;
    expect(f(0.3, 1.34)).toBe('doubtful');
    expect(f(0.3, 1.35)).toBe('confirmed');
    expect(f(1.21, 1.99)).toBe('doubtful');
    // registrations stored before the confidence existed: not doubtful (treated as before)
    expect(isDoubtful({})).toBe(false);
  });
  it('a per-field registration is judged on the held-out error of the transform under its fields, and needs a clear best pose', async () => {
    // review R3: the fields' own fit residual (0.70 voxel) confirmed this map at 0.6x its pixel size, 42 voxels off
    const s = sample(23);
    const wrongMap = { ...s.eds, pixelSizeUm: 0.6 * s.eds.pixelSizeUm };
    const wrong = await registerEdsToVolume(s.volume, wrongMap, { inWorker: false, model: 'fields', fields: regularFields(wrongMap.width, wrongMap.height, 3, 3) });
    expect(wrong.model).toBe('fields');
    expect(errorOf(s, wrong)).toBeGreaterThan(20);
    expect(wrong.quality.confidence).toMatchObject({ verdict: 'doubtful' });
    const right = await registerEdsToVolume(s.volume, s.eds, { inWorker: false, model: 'fields', fields: regularFields(s.eds.width, s.eds.height, 3, 3) });
    expect(right.model).toBe('fields');
    expect(errorOf(s, right)).toBeLessThan(0.5);
    expect(right.quality.confidence).toMatchObject({ verdict: 'confirmed' });
    // the reading is a held-out one: the whole-map transform's, not the fields' fit residual
    expect(right.quality.confidence!.readings.heldOutRmsVox).not.toBe(right.modelChoice!.heldOutRmsVox.fields);
    expect(right.quality.confidence!.readings.heldOutRmsVox).toBe(right.modelChoice!.heldOutRmsVox.similarity);
  }, 120_000);

  it('--model similarity gets its held-out error and is confirmed when right', async () => {
    // before: the held-out errors were null when the similarity was requested, so it always read doubtful
    const s = sample();
    const r = await registerEdsToVolume(s.volume, s.eds, { inWorker: false, model: 'similarity' });
    expect(errorOf(s, r)).toBeLessThan(0.5);
    expect(r.modelChoice!.heldOutRmsVox.similarity!).toBeLessThan(CONFIDENCE_RULE.heldOutVox);
    expect(r.quality.confidence).toMatchObject({ verdict: 'confirmed' });
  }, 120_000);

  it('landmark clicks a few voxels off do not doubt a right registration; swapped pairs stay doubtful', async () => {
    const s = sample();
    const W = s.eds.width, H = s.eds.height;
    const pts: [number, number][] = [[0.2 * W, 0.2 * H], [0.8 * W, 0.25 * H], [0.5 * W, 0.8 * H]];
    const dirs = [[1, 0], [-0.6, 0.8], [-0.6, -0.8]] as const;
    const pairs = (err: number) => pts.map(([u, v], i) => {
      const [z, y, x] = applyAffine2to3(s.truth.edsToVoxel, u, v);
      return { eds: [u, v] as [number, number], voxel: [z, y + err * dirs[i]![1], x + err * dirs[i]![0]] as [number, number, number] };
    });
    // clicks 6 voxels off: the registration refines to 0.08 voxel from truth (review R3: it read doubtful and run stopped)
    const clicked = await registerEdsToVolume(s.volume, s.eds, { inWorker: false, landmarks: pairs(6) });
    expect(errorOf(s, clicked)).toBeLessThan(0.5);
    expect(clicked.quality.confidence!.readings.landmarkRmsVox!).toBeGreaterThan(CONFIDENCE_RULE.landmarkRmsVox);
    expect(clicked.quality.confidence).toMatchObject({ verdict: 'confirmed' });
    // two pairs' volume ends swapped: 50 voxels off, doubtful
    const swapped = pairs(0);
    [swapped[0]!.voxel, swapped[1]!.voxel] = [swapped[1]!.voxel, swapped[0]!.voxel];
    const wrong = await registerEdsToVolume(s.volume, s.eds, { inWorker: false, landmarks: swapped });
    expect(errorOf(s, wrong)).toBeGreaterThan(20);
    expect(wrong.quality.confidence).toMatchObject({ verdict: 'doubtful' });
  }, 180_000);
});
