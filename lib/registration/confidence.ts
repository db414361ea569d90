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
 * landmark pairs that agree to landmarkRmsVox confirm, and so does a held-out error of at most
 * heldOutVox whatever the landmarks say (clicks a few voxels off, the registration refined past
 * them); landmark pairs that disagree with nothing else confirming are doubtful. Without landmarks:
 * confirmed when the held-out error is at most heldOutVox, or at most heldOutWithMarginVox with the
 * search's best pose at least miRatio times as good as any other, or at most
 * heldOutWithStrongMarginVox with strongMiRatio. Everything else is doubtful.
 *
 * A per-field registration (`fields`) is judged on the held-out error of the global model its fields
 * sit on, never on the fields' own residual (each field's shift is fitted on the patches it would be
 * judged on: wrong registrations read 0.70 there), and after a search it also needs the clear best
 * pose (miRatio): the fields' freedom can make a wrong pose's patches agree.
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
  /**
   * a per-field registration: heldOutRmsVox is then the global model's under the fields (not the
   * fields' fit residual), and after a search a clear best pose is required as well
   */
  fields?: boolean;
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
    if (lmRms <= R.landmarkRmsVox) return out('confirmed', `${res.length} landmark pairs agree with it to ${f2(lmRms)} voxel (RMS).`);
    // clicks a few voxels off, the registration refined from them to where the map's own parts agree:
    // the held-out error confirms it (measured: clicks 4-10 voxels off, registrations 0.08 voxel from truth, 0.34-0.41 held out)
    if (held !== null && held <= R.heldOutVox) {
      return out('confirmed', `the parts of the map held out of its fit agree with it to ${f2(held)} voxel; the ${res.length} landmark pairs are ${f2(lmRms)} voxels (RMS) from it: the registration refined past imprecise clicks.`);
    }
    return out('doubtful', `the ${res.length} landmark pairs disagree with it by ${f2(lmRms)} voxels (RMS)${held === null ? '' : ` and the parts of the map held out of its fit agree with it only to ${f2(held)} voxel`}: a pair on different grains, or a wrong pixel or voxel size.`);
  }
  if (held === null) {
    return out('doubtful', `its alignment error could not be measured: too few parts of the map (${inp.patches ?? 0}) lie on the volume and match it locally.`);
  }
  const patchWords = `the parts of the map held out of its fit agree with it to ${f2(held)} voxel`;
  if (inp.fields && miRatio !== null && miRatio < R.miRatio) {
    // the per-field model's freedom: a wrong pose's few patches can agree under it (pixel x0.6: 0.70 voxel, 42 voxels off)
    return out('doubtful', `${patchWords} under its fields, but another, different pose matches nearly as well (${miRatio.toFixed(2)} times; right registrations of a mosaic read 2.9 or more).`);
  }
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
