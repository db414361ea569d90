/**
 * The quality estimate's shape and its plain sentences: no imports, so client components can use it
 * (lib/classify/quality-estimate computes it and pulls in TF.js).
 */
export interface QualityEstimate {
  /** estimated 3D mean IoU of the map (what the user should expect below the labelled layer) */
  meanIoU: number;
  /** the model's held-out surface mean IoU (what the surface tiles report) */
  surfaceMeanIoU: number;
  /** mean IoU of the two half-models against each other, in depth (NaN, stored as null, when they were not trained) */
  depthAgreement: number;
  /** mean IoU of each half-model against the labels of the other half (on the surface, out of its sample) */
  crossHalf: number;
  /** the model's expected mean IoU from its probabilities, in depth and on the held-out surface */
  depthConfidence: number;
  surfaceConfidence: number;
  /** share of sampled depth voxels with at least one feature outside the training range */
  outOfRange: number;
  /** depth voxels sampled */
  sampled: number;
  /** the measures per class (absent on models trained before they were kept) */
  perClass?: QualityClass[];
}

/** One class's truth-free measures (NaN where a measure could not be made). */
export interface QualityClass {
  class: number;
  /** estimated 3D IoU of the class */
  estimate: number;
  /** IoU on the held-out surface tiles and the held-out voxels of the class */
  surfaceIoU: number;
  surfaceSupport: number;
  /** IoU of the two half-models against each other in depth */
  depthAgreement: number;
  /** IoU of each half-model against the other half's labels at the surface (mean of the two) */
  crossHalf: number;
  /** expected IoU from the model's calibrated probabilities, in depth and on the held-out surface */
  depthExpected: number;
  surfaceExpected: number;
  /** share of the depth sample the model assigns to this class */
  depthShare: number;
  /** share of the class in the labels' own census (the EDS map's area fractions), NaN when not given */
  labelShare: number;
}

/**
 * The stated uncertainty of the estimate (± this much, as a fraction of IoU): 0.05, the issue's
 * target, widened by twice the share of depth voxels outside the training range beyond 2 % (the
 * benchmark phantoms stay at or below 2.4 %), at most 0.3. A voxel that flips from right to wrong
 * costs about two IoU terms, and the estimate cannot see which of those voxels are right. On N3's
 * rock the estimate still read +0.11 high on seed 8 (out of range 5.3 %: margin 0.116) with the
 * out-of-range weight: the model there misses half the calcite at p 0.8-0.9 in depth, which no
 * truth-free measure tried showed (docs/quality-estimate.md), so the margin is the honest answer.
 */
export function estimateMargin(outOfRange: number): number {
  if (!Number.isFinite(outOfRange)) return 0.05;
  return Math.min(0.3, 0.05 + 2 * Math.max(0, outOfRange - 0.02));
}

/** Plain sentences for the UI and the CLI, one per number. */
export const QUALITY_EXPLAINED = {
  meanIoU: "Estimated 3D mean IoU: what to expect inside the volume, away from the labels. It is the score the model expects from its own probabilities on voxels deep in the volume, sharpened and raised per mineral (errors in the EDS labels make the model too cautious, most for minerals in small grains), checked against the mineral shares of the EDS map (where the 3D map holds far more of a mineral than the EDS map shows, the surplus counts as errors), and with half of every voxel that looks unlike any labelled voxel counted as wrong (see 'Outside the training range'). On our synthetic test sandstones (two kinds, two sizes) it was within 0.05 of the true value on 21 of 22 runs (one read 0.08 high). Read it as a range of about ±0.05 when at most 2 % of the voxels in depth lie outside the training range, and 0.02 wider for every further percent: then the rock holds something the labels did not show (a mineral the EDS map names but no class takes, or one the map hardly shows), and on a test rock made by someone else it read up to 0.2 high (0.11 high on a rock whose EDS map held half the calcite of the volume, which nothing without the 3D truth could see). Per mineral it is rougher (up to about ±0.2).",
  surfaceMeanIoU: 'Surface check: mean IoU on labelled tiles held out from training. They lie in the labelled layer, so this is usually higher than the 3D quality.',
  agreement: "Agreement: two models, each trained on one half of the labels. On the surface each is scored on the other half's labels; in depth they are compared with each other, and where they disagree at least one is wrong.",
  confidence: "Confidence: the model's own expected mean IoU from its probabilities, on the surface and in depth. A drop in depth means it is less sure there.",
  outOfRange: 'Outside the training range: share of the voxels in depth with a feature value never seen among the labelled voxels; the model extrapolates there, and the 3D estimate counts half of them as wrong. Above 2 %, read the 3D estimate as less certain: ±0.05 plus twice the share beyond 2 % (5 % outside: ±0.11).',
  perClass: "Per class: the estimated 3D IoU (rougher than the mean: a rare mineral rests on few voxels), the surface check, how often the two half-models agree in depth (when they were trained), and the class's share of the voxels in depth beside its share of the EDS map (a class the model finds far more or less often in depth than the map shows is being confused).",
} as const;
