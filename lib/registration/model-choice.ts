/**
 * Step 5 of the registration (register-eds.ts): from the refined similarity, the affine and
 * per-field candidates and the kept model (see choose-model.ts for the evidence each needs).
 */
import type { Affine2 } from '../coords';
import type { OnProgress } from '../errors';
import { heldOutRms, judgeAffine, measurePatches, residualMap, type ScoreOn } from './choose-model';
import type { MovingImage } from './moving-image';
import { predictedGrey } from './patch-shift';
import { refineMosaicLayout } from './mosaic-layout';
import { fieldShiftAt, refineFields } from './refine-fields';
import { polishSimilarity } from './similarity-polish';
import { nextUnit } from './yield-unit';
import type { FieldRect, ModelCandidates, ModelChoice, Registration, RegistrationModel, Slab } from './types';

export interface ChooseModelOptions {
  model?: 'auto' | RegistrationModel;
  fields?: FieldRect[];
  signal?: AbortSignal;
  onProgress?: OnProgress;
}

export interface ChosenModel {
  edsToSlab: Affine2;
  out: Pick<Registration, 'model' | 'modelChoice' | 'fields' | 'residual' | 'candidates'>;
  /**
   * The global model under the kept one: itself for a similarity or an affine, the model the fields
   * sit on for a per-field registration. Its held-out error is the one a registration's confidence
   * reads (heldOutRmsVox.fields is the fields' own fit residual, not held out: each field's shift was
   * measured on the patches it is judged on).
   */
  globalModel: Exclude<RegistrationModel, 'fields'>;
}

/**
 * From the refined similarity `sim`, the candidates and the kept model. Each unit (patch shifts,
 * field shifts, the affine's climbs and polish, the similarity's polish) starts after a turn of the
 * event loop and stops there when `opts.signal` has fired (yield-unit.ts): a Cancel lands between units.
 */
export async function chooseModel(slab: Slab, mov: MovingImage, sim: Affine2, scoreOn: ScoreOn, opts: ChooseModelOptions): Promise<ChosenModel> {
  const requested = opts.model ?? 'auto';
  const { signal } = opts;
  const scale = Math.sqrt(Math.abs(sim[0] * sim[4] - sim[1] * sim[3]));
  opts.onProgress?.(0.95, 'choosing the transform model');
  const withFields = !!opts.fields?.length && (requested === 'auto' || requested === 'fields');
  // a stitched map: field shifts first (under the similarity), so that they do not pass for an affine
  const P = withFields ? predictedGrey(slab, mov, sim) : undefined;
  if (withFields) await nextUnit(signal);
  const fc0 = withFields ? refineFields(slab, P!, mov.width, mov.height, sim, opts.fields!, { signal, labels: mov }) : undefined;
  await nextUnit(signal);
  const pm = measurePatches(slab, mov, sim, signal, fc0 && ((u, v) => fieldShiftAt(fc0, u, v)));
  const candidates: ModelCandidates = { similarity: { edsToSlab: sim, residual: residualMap(pm, sim, sim, scale) } };
  let choice: ModelChoice;
  let global = sim, kept: RegistrationModel = 'similarity';
  if (requested === 'similarity') {
    // its held-out error all the same: a registration's confidence reads it (before: null, so a requested similarity always read doubtful)
    const simRms = heldOutRms('similarity', pm.pts);
    choice = { requested, kept, reason: 'similarity: requested', patches: pm.pts.length, heldOutRmsVox: { similarity: simRms === null ? null : simRms * scale, affine: null, fields: null } };
  } else {
    await nextUnit(signal);
    const a = await judgeAffine(pm, sim, scoreOn, mov.width, mov.height, { signal, fieldsFirst: withFields, slabSize: [slab.width, slab.height], images: { slab, mov }, requested: requested === 'affine' });
    if (a.affine) candidates.affine = { edsToSlab: a.affine, residual: residualMap(pm, sim, a.affine, scale) };
    if (a.affine && (requested === 'affine' || a.keep)) { global = a.affine; kept = 'affine'; }
    const reason = requested === 'affine' ? (a.affine ? `affine: requested (${a.choice.reason})` : a.choice.reason) : a.choice.reason;
    choice = { requested, kept, ...a.choice, reason };
  }
  if (kept === 'similarity' && !withFields) {
    // the similarity's basin centre on the slab extrapolated to the surface, without its edge ring (similarity-polish.ts)
    await nextUnit(signal);
    const p = polishSimilarity(slab, mov, sim, signal);
    global = p.edsToSlab;
    candidates.similarity = { edsToSlab: global, residual: residualMap(pm, sim, global, scale) };
    choice.reason += `; polished on the slab ${p.extrapolated ? 'extrapolated to the surface' : 'as sampled (no deeper slab to extrapolate from)'} without its edge ring (${(100 * p.onRing).toFixed(1)} % of the map on it, gain ${p.gain.toFixed(4)})`;
  }
  const globalModel = kept;
  let fields: Registration['fields'];
  if (withFields) {
    // (correcting the global transform by the similarity left in the field-corrected patches, then
    // measuring the fields again, made it worse on the synthetic mosaics: 0.23-0.29 -> 0.32-0.34 voxel)
    await nextUnit(signal);
    const fm = kept === 'affine' ? refineFields(slab, P!, mov.width, mov.height, global, opts.fields!, { signal, labels: mov }) : fc0!;
    // the global transform corrected by the fields' layout, the fields measured again under it (mosaic-layout.ts)
    await nextUnit(signal);
    const { edsToSlab: fg, fields: fc } = refineMosaicLayout(slab, mov, global, opts.fields!, fm, { signal, labels: mov });
    candidates.fields = { edsToSlab: fg, fields: fc, residual: residualMap(pm, sim, fg, scale, (u, v) => fieldShiftAt(fc, u, v)) };
    const moved = fc.filter((f) => f.moved).length;
    const nameOf = (f: FieldRect) => f.name ?? `${f.u0},${f.v0}`;
    const ambiguous = fc.filter((f) => f.ambiguous && !f.unplaced).map(nameOf), unplaced = fc.filter((f) => f.unplaced).map(nameOf);
    const fellBack = (ambiguous.length ? `; ${ambiguous.join(', ')}: no distinct match, kept on the global transform` : '')
      + (unplaced.length ? `; ${unplaced.join(', ')}: nothing to match on a map with stitching errors, not placed: ${unplaced.length > 1 ? 'their' : 'its'} labels are left out of training` : '');
    const misfit = candidates.fields.residual!.misfitVox.filter((x): x is number => x !== null);
    choice.heldOutRmsVox.fields = misfit.length ? Math.sqrt(misfit.reduce((s, x) => s + x * x, 0) / misfit.length) : null;
    if (requested === 'fields' || moved > 0) {
      fields = fc;
      global = fg;
      choice.reason = `fields (on the ${kept}): ${moved} of ${fc.length} fields moved, up to ${Math.max(0, ...fc.map((f) => Math.hypot(...f.shiftPx))).toFixed(1)} px${fellBack}; ${choice.reason}`;
      kept = 'fields';
    } else {
      choice.reason = `${choice.reason}; no field moved beyond its noise${fellBack}`;
    }
    choice.kept = kept;
  }
  const residual = (kept === 'fields' ? candidates.fields : kept === 'affine' ? candidates.affine : candidates.similarity)?.residual;
  return { edsToSlab: global, out: { model: kept, modelChoice: choice, fields, residual, candidates }, globalModel };
}
