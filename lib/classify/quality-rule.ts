/**
 * The rule of the 3D quality estimate (lib/classify/quality-estimate): from the model's
 * probabilities on the depth sample to an estimated 3D IoU per class. Plain arrays, no TF.js, so
 * bench quality re-checks it on dumped runs in seconds.
 */
import { expectedIoUPerClass, iouFromConfusion, rakeToCensus, softConfusion, withPriors, withTemperature } from './quality-measures';

/**
 * Sharpening of the model's probabilities before their expected IoU is taken (p^(1/T), T < 1).
 * Fitted with CENSUS_WEIGHT as a pair on the grid T 0.45-0.8 by 0.05 x census 0, 0.25, 0.5, 0.75,
 * 1 (`bench quality <dumps> --grid`): the smallest largest error over the runs of seeds 14 and 15
 * only (A and B at 96x160x160 and 128x192x192, 8 runs). With the training of this stop's end (EDS
 * class shares matched in depth, TRAIN_DEFAULTS.matchEdsShares): 0.053 at T 0.6 and census 0.5.
 * Before that training change the same fit gave T 0.55 and census 0.5 (0.036); the fit set alone
 * hardly tells the pairs apart (docs/quality-estimate.md). The ceilings' floor (0.6) was fitted
 * last stop with T 0.6 and was not refitted. The census was chosen after reading the misses of
 * seeds 11-13, so those runs are not a blind test of the form, only of the values. The temperature
 * fitted on the held-out surface tiles does not do this (0.5-1.1, unrelated to the error): it
 * calibrates the model to the surface labels, noise included.
 */
export const DEPTH_TEMPERATURE = 0.6;

/**
 * Weight of the EDS map's census in the class totals of the soft confusion (rakeToCensus): each
 * class's expected number of voxels is taken half from the model's probabilities and half from the
 * EDS map's share of the class. Fitted with DEPTH_TEMPERATURE (see there). Not 1: the map is one
 * face of a volume whose composition varies (A 128x192x192 seed 12: the map shows 18 % feldspar,
 * the depth sample holds 13 % and the model finds 8 %), and a full census read that run 0.1 low.
 */
export const CENSUS_WEIGHT = 0.5;

/**
 * The estimated 3D IoU per class (class order of the model; NaN for a class neither predicted nor
 * expected), from the model's probabilities `p` on the depth sample:
 *   1. sharpened by `temperature` (the EDS labels' noise made the model cautious everywhere);
 *   2. divided by each class's ceiling (`ceilings`, classCeilings: what the model gives a class on
 *      its own labelled rows; small grains such as pyrite have mixed labels and low ceilings);
 *   3. moved from the class shares the training assumed (`trainPrior`) to the EDS map's (`shares`:
 *      label shift);
 *   4. summed into a soft confusion of the argmax map (softConfusion: per predicted class, where its
 *      voxels' probability goes), whose class totals are raked toward the EDS map's census with
 *      weight `census` (rakeToCensus; CENSUS_WEIGHT by default when `shares` are given);
 *   5. IoU per class from that confusion.
 * Without `shares`, steps 3 and 4 are left out (painted labels: no census), and the result is the
 * plain expected IoU of the sharpened probabilities.
 * Why the census (issue 15 §2): where the model is confidently wrong in depth, its own
 * probabilities cannot see it (A 96x160x160 seed 13: quartz taken for feldspar on 26 % of the
 * quartz voxels at p 0.79, clay for pore on half the clay voxels at 0.76; the rule without the
 * census read +0.072). The map it makes then holds far more of some minerals than the EDS map
 * (feldspar 24 % of the depth sample against 16 %, pore 26 % against 18 %), and a mineral cannot
 * be found right in more voxels than the rock holds: raking the totals toward the census moves the
 * surplus of a predicted class off its diagonal (its voxels are then counted as another class's).
 * Since training matches the EDS map's class shares in depth (TRAIN_DEFAULTS.matchEdsShares), the
 * map holds the census's shares by construction, and this check mostly sees what the matching
 * could not move; the confident errors stay (A 96 s13: quartz taken for feldspar on 14 % of the
 * quartz voxels at p 0.77).
 * Why ceilings: see classCeilings; without them pyrite read 0.25-0.28 low at the two larger sizes.
 * Estimate - true 3D mean IoU of the whole volume (bench quality on fresh --quality-dump runs,
 * 8 boxes of 24x64x64; docs/quality-estimate.md has every run):
 *   - with the training of this stop's end (class shares matched in depth), T 0.6, census 0.5:
 *     seeds 11-13, A and B, three sizes (18 runs): 15/18 within 0.05, max 0.086 (A 96 s11
 *     +0.086, s12 -0.052, B 160 s12 -0.065); the fit runs 6/8, max 0.053; unit phantom -0.007.
 *     The same runs without the census (T 0.6): 14/18, max 0.096.
 *   - with the training before it, T 0.55, census 0.5: seeds 11-13 at all three sizes (18 runs)
 *     17/18 within 0.05, max 0.054 (A 128 s12, -0.028 of it the sample's luck); the fit runs 8/8,
 *     max 0.036; the previous rule (T 0.6, no census) 16/18, max 0.072 (A 96 s11 +0.053, s13
 *     +0.072).
 * Per class it is rougher (estimate - the class's true 3D IoU, the 18 check runs with the current
 * training): pyrite reads low (mean -0.10, down to -0.23: its voxels are 90 % right at a mean
 * probability near 0.75, and its ceiling rests on 10-25 held-out rows), feldspar high (mean
 * +0.10, up to +0.24), pore -0.03, quartz +0.04, clay -0.01.
 * Measured and not kept: census weight 1 (the EDS shares as the class totals) 0.12 off on the check
 * runs; sharpening only voxels inside the map's grains, not those beside another predicted class
 * (errors there are 0.05 above what the probabilities say on style A, 0.02 on B), at every pair
 * of temperatures 0.07-0.19 off; the earlier stops' candidates (half-model agreement, temperature
 * scaling on the held-out tiles, EM toward the EDS shares, reliability tables): see
 * docs/quality-estimate.md.
 */
export function estimateFromProbabilities(p: Float32Array, K: number, o: { temperature?: number; trainPrior?: number[]; shares?: number[] | null; ceilings?: number[] | null; census?: number } = {}): number[] {
  let q = withTemperature(p, K, o.temperature ?? DEPTH_TEMPERATURE);
  if (o.ceilings) q = withPriors(q, K, o.ceilings, o.ceilings.map(() => 1));
  if (o.trainPrior && o.shares) q = withPriors(q, K, o.trainPrior, o.shares);
  const census = o.shares ? (o.census ?? CENSUS_WEIGHT) : 0;
  if (!(census > 0)) return expectedIoUPerClass(q, K, p);
  const { confusion, predicted } = softConfusion(q, K, p);
  return iouFromConfusion(rakeToCensus(confusion, predicted, K, o.shares!, census), predicted, K);
}
