/**
 * The web app's stop on a doubtful registration (lib/registration/confidence.ts): Accept on the
 * Correlate step and Train refuse a registration whose stored confidence is doubtful until the user
 * confirms it on the overlay (RegistrationRecord.overlayChecked) or places the map with landmarks.
 * Registrations stored before the confidence existed pass, as before.
 */
import { isDoubtful, registrationConfidence, type RegistrationConfidence } from '@/lib/registration/confidence';
import type { Registration, RegistrationModel } from '@/lib/registration/types';
import type { RegistrationRecord } from './correlate';
import type { Face } from './project-inputs';

/**
 * A registration whose stored confidence is doubtful (lib/registration/confidence.ts: an automatic
 * one nothing confirms, or landmark pairs that disagree) and that the user has not confirmed on the
 * overlay: the words that refuse it (accept, train), else undefined. Older registrations without a
 * confidence pass, as before.
 */
export function doubtfulUnchecked(rec: Pick<RegistrationRecord, 'quality' | 'overlayChecked'>, face: Face = 'top'): string | undefined {
  if (rec.overlayChecked || !isDoubtful(rec.quality as Registration['quality'])) return undefined;
  const c = (rec.quality as Registration['quality']).confidence!;
  return `Nothing confirms this registration of the ${face} face's EDS map: ${c.reason.replace(/\.$/, '')}. ` +
    'A wrong pixel size of the map or voxel size of the scan, a map of the other face or of another sample, or a map covering too little of the scan registers like this, far off. ' +
    'Check the overlay on the Correlate step (blend, swipe, outlines): if the grains line up, click "I checked the overlay — use this registration"; ' +
    'if not, check the map\'s pixel size and the volume\'s voxel size on the Data step, or place the map with 3 landmark pairs.';
}

/**
 * The confidence of a stored automatic registration switched to another of its candidate models on
 * the Correlate page (useRegistrationModel): the rule of lib/registration/confidence.ts on that
 * model's held-out error and the same search and coverage readings, its reason saying that the model
 * was chosen by the user. A per-field model's error is its global transform's under the fields, the
 * similarity's or the affine's (which one is not stored: the larger of the two measured). Undefined
 * for a registration stored without a confidence (treated as before).
 */
export function confidenceForModel(quality: RegistrationRecord['quality'], modelChoice: RegistrationRecord['modelChoice'], model: RegistrationModel): RegistrationConfidence | undefined {
  const q = quality as Registration['quality'];
  if (!q.confidence || !modelChoice) return undefined;
  const ho = modelChoice.heldOutRmsVox;
  const measured = [ho.similarity, ho.affine].filter((v): v is number => v != null && Number.isFinite(v));
  const held = model === 'fields' ? (measured.length ? Math.max(...measured) : null) : ho[model];
  const c = registrationConfidence({
    heldOutRmsVox: held, patches: modelChoice.patches, coarseMi: q.coarseMi, secondMi: q.secondMi, coverage: q.coverage,
    landmarkResiduals: q.landmarkResiduals, fields: model === 'fields',
  });
  return { ...c, reason: `for the ${model === 'fields' ? 'per-field' : model} model you chose: ${c.reason}` };
}
