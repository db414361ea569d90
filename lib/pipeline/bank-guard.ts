/**
 * A truth-free guard for feature definition version 3 (in-plane large scales, lib/features/plan.ts)
 * on EDS labels. Version 3 gains on style-A sandstones but on some style-B samples a rare class
 * vanishes from the model's map (bench pipeline B 96x160x160 seeds 11 and 13: feldspar and clay at
 * 0.000, mean IoU -0.165 / -0.132 against version 2). The class-share step already predicts a
 * sample of 6 boxes in depth; a class whose share of the EDS map is clearly non-zero but whose
 * share of that sample falls far below it has vanished, and the model is trained again on the same
 * bank in version 2 (trainFromLabels). docs/oracle-gap.md, stop 29.
 */
import { argmaxClasses, predictRows } from '../classify/mlp';
import type { TrainedModel } from '../classify/model-types';
import type { FeatureSet } from '../features/types';

/**
 * A class counts as vanished when its EDS-map share is at least `minLabelShare` and its share of the
 * depth sample is below `minRatio` times that. Chosen on stop 28's version-3 runs of seeds 11 and 12
 * (8 runs, both styles, both sizes): the one collapse (B 96 s11) read 0.00 (feldspar, map 0.094) and
 * 0.02 (clay, map 0.097); the seven others' lowest ratio was 0.54 (B 128 s12 clay, map 0.074). 0.2
 * lies between them (their geometric mean is 0.10; 0.2 leaves more room below 0.54 than above 0.02
 * is needed). The share floor keeps pyrite (map 0.7-2.7 %, a few hundred pixels) out: its depth share
 * scatters with the 6 boxes' grains (ratios 0.38-1.3 on those runs).
 */
export const BANK_GUARD: Readonly<BankGuardRule> = Object.freeze({ minLabelShare: 0.03, minRatio: 0.2 });

export interface BankGuardRule {
  minLabelShare: number;
  minRatio: number;
}

export interface VanishedClass {
  class: number;
  labelShare: number;
  depthShare: number;
}

export interface BankGuardVerdict {
  /** true: a class vanished, the model was trained again on `fallbackVersion` */
  fired: boolean;
  /** the feature definition version the guard judged, and the one it falls back to */
  version: number;
  fallbackVersion: number;
  /** each class's share of the depth sample (model's arg max after the class-share weights) and of the EDS map */
  shares: { class: number; depthShare: number; labelShare: number }[];
  vanished: VanishedClass[];
}

/** The feature set the guard falls back to (the same bank in version 2), or null when the guard does not apply (not version 3). */
export function guardFallback(set: FeatureSet): FeatureSet | null {
  return set.version === 3 ? { ...set, version: 2 } : null;
}

/** Share of each of `tm.classes` among the model's arg max on `n` feature rows. */
export async function argmaxShares(tm: TrainedModel, rows: Float32Array, n: number): Promise<number[]> {
  if (!n) return tm.classes.map(() => NaN);
  const pred = argmaxClasses(await predictRows(tm, rows, n), tm.classes);
  const count = new Map<number, number>();
  for (const c of pred) count.set(c, (count.get(c) ?? 0) + 1);
  return tm.classes.map((c) => (count.get(c) ?? 0) / n);
}

/** The guard's verdict from the depth sample's class shares and the EDS map's. */
export function judgeBank(classes: number[], depthShares: number[], labelShares: Map<number, number>, version: number, fallbackVersion: number, rule: BankGuardRule = BANK_GUARD): BankGuardVerdict {
  const shares = classes.map((c, k) => ({ class: c, depthShare: depthShares[k]!, labelShare: labelShares.get(c) ?? 0 }));
  const vanished = shares.filter((s) => s.labelShare >= rule.minLabelShare && s.depthShare < rule.minRatio * s.labelShare);
  return { fired: vanished.length > 0, version, fallbackVersion, shares, vanished };
}
