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
import { generateSandstone } from '../../../lib/synthetic';

// the measurement's style A sample (docs/registration-confidence.md), seed 17
const sample = () => generateSandstone({
  shape: [24, 128, 128], voxelUm: 2, seed: 17, surfaceDepthVox: 5, tiltDeg: 3, tiltAzimuthDeg: 37 * 17,
  eds: { rotationDeg: 53 * 17, pixelUm: 1.4, mirrored: false, offsetVox: { x: ((17 * 7) % 11) - 5, y: ((17 * 5) % 9) - 4 } },
});

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
    const off = registrationConfidence({ heldOutRmsVox: 0.3, coverage: 0.5, landmarkResiduals: [4, 5, 3] });
    expect(off.verdict).toBe('doubtful');
    expect(off.reason).toMatch(/3 landmark pairs disagree with it by 4\.08 voxels/);
    // registrations stored before the confidence existed: not doubtful (treated as before)
    expect(isDoubtful({})).toBe(false);
  });
});
