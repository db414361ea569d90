/**
 * A registration's confidence without truth: is the EDS map where the registration put it, or far
 * off (a wrong pixel size or voxel size, the other face, another sample's map, or a search that
 * failed on good input)? Computed by registerEdsToVolume and stored in its quality; `petromap run`
 * stops on a doubtful one and the web app's Train refuses it until the user confirms the overlay.
 *
 * Readings (all truth-free):
 *   - heldOutRmsVox: the kept model's leave-one-out residual over the map's patches (model-choice.ts):
 *     each patch's own local shift against the model fitted without it. A right registration's
 *     patches agree to a fraction of a voxel; a wrong one's local matches are noise, far apart, or
 *     too few patches lie on the volume to measure (null).
 *   - miRatio: the automatic search's best pose's mutual information over the best clearly
 *     different pose's (coarse-align.ts secondMi): near 1 when another pose matches as well.
 *   - landmarkRmsVox: landmark pairs given: their residual RMS after the fit (slab pixels ~ voxels).
 *
 * The rule (chosen on 73 automatic registrations, checked on fresh ones: docs/registration-confidence.md):
 * landmark pairs that agree to landmarkRmsVox confirm; otherwise confirmed when the held-out error
 * is at most heldOutVox, or at most heldOutWithMarginVox with the search's best pose at least
 * miRatio times as good as any other, or at most heldOutWithStrongMarginVox with strongMiRatio.
 * Everything else is doubtful.
 */
import type { ConfidenceReadings, RegistrationConfidence, RegistrationQuality } from './types';

export type { ConfidenceReadings, RegistrationConfidence } from './types';

export const CONFIDENCE_RULE = {
  /** held-out patch error (voxels, RMS) that confirms on its own */
  heldOutVox: 0.7,
  /** held-out patch error (voxels) that confirms with a clear best pose */
  heldOutWithMarginVox: 1.2,
  /** best / second-best distinct pose's mutual information that counts as a clear best pose */
  miRatio: 1.35,
  /**
   * a stitched map's fields disagree among themselves (a 4x4 mosaic registered without its layout:
   * 1.34 voxel held out, 1.25 voxel off): a far better best pose confirms up to this held-out error
   */
  heldOutWithStrongMarginVox: 2,
  /** best / second-best that counts as far better (wrong registrations measured: at most 1.42) */
  strongMiRatio: 2,
  /** landmark residual RMS (voxels) below which landmark pairs confirm */
  landmarkRmsVox: 3,
} as const;

/** The ratio is capped here (a search with no other overlapping pose, secondMi <= 0). */
const MI_RATIO_CAP = 99;

export interface ConfidenceInput {
  heldOutRmsVox?: number | null;
  patches?: number | null;
  /** the coarse search's best and second-best distinct pose (automatic registrations) */
  coarseMi?: number;
  secondMi?: number;
  coverage: number;
  landmarkResiduals?: number[];
}

/** best / second-best mutual information, capped; null when there was no search */
export function miRatioOf(mi: number | undefined, secondMi: number | undefined): number | null {
  if (mi === undefined || secondMi === undefined || !Number.isFinite(mi)) return null;
  if (!(secondMi > 0)) return MI_RATIO_CAP;
  return Math.min(MI_RATIO_CAP, mi / secondMi);
}

const f2 = (v: number) => v.toFixed(2);

export function registrationConfidence(inp: ConfidenceInput): RegistrationConfidence {
  const R = CONFIDENCE_RULE;
  const held = inp.heldOutRmsVox != null && Number.isFinite(inp.heldOutRmsVox) ? inp.heldOutRmsVox : null;
  const res = inp.landmarkResiduals ?? [];
  const lmRms = res.length ? Math.sqrt(res.reduce((s, r) => s + r * r, 0) / res.length) : null;
  const miRatio = lmRms === null ? miRatioOf(inp.coarseMi, inp.secondMi) : null;
  const readings: ConfidenceReadings = { heldOutRmsVox: held, patches: inp.patches ?? null, miRatio, coverage: inp.coverage, landmarkRmsVox: lmRms };
  const out = (verdict: RegistrationConfidence['verdict'], reason: string): RegistrationConfidence => ({ verdict, reason, readings });
  if (lmRms !== null) {
    return lmRms <= R.landmarkRmsVox
      ? out('confirmed', `${res.length} landmark pairs agree with it to ${f2(lmRms)} voxel (RMS).`)
      : out('doubtful', `the ${res.length} landmark pairs disagree with it by ${f2(lmRms)} voxels (RMS): a pair on different grains, or a wrong pixel or voxel size.`);
  }
  if (held === null) {
    return out('doubtful', `its alignment error could not be measured: too few parts of the map (${inp.patches ?? 0}) lie on the volume and match it locally.`);
  }
  const patchWords = `the parts of the map held out of its fit agree with it to ${f2(held)} voxel`;
  if (held <= R.heldOutVox) return out('confirmed', `${patchWords}.`);
  const clear = miRatio !== null && miRatio >= R.miRatio;
  if (held <= R.heldOutWithMarginVox && clear) {
    return out('confirmed', `${patchWords}, and the search's best pose matches ${miRatio!.toFixed(1)} times as well as any other.`);
  }
  if (held <= R.heldOutWithStrongMarginVox && miRatio !== null && miRatio >= R.strongMiRatio) {
    return out('confirmed', `the search's best pose matches ${miRatio.toFixed(1)} times as well as any other; the parts of the map held out of its fit agree with it to ${f2(held)} voxel (the fields of a stitched map can disagree this much).`);
  }
  if (held <= R.heldOutWithMarginVox) {
    return out('doubtful', `${patchWords} only, and another, different pose matches nearly as well (${miRatio === null ? 'not measured' : `${miRatio.toFixed(2)} times`}).`);
  }
  return out('doubtful', `${patchWords} only (right registrations of our test rocks agree to 0.9 voxel or better).`);
}

/** The confidence stored with a registration, or undefined (a registration stored before it existed: treated as before). */
export const confidenceOf = (q: Pick<RegistrationQuality, 'confidence'> | null | undefined): RegistrationConfidence | undefined => q?.confidence ?? undefined;

/** A doubtful automatic registration (or landmark pairs that disagree): true only when a stored confidence says so. */
export const isDoubtful = (q: Pick<RegistrationQuality, 'confidence'> | null | undefined): boolean => confidenceOf(q)?.verdict === 'doubtful';
