/**
 * Which polished face of the sample an EDS map shows (issue 15 §1, a second EDS section). A sample
 * is often mapped on its top AND its bottom face; the bottom face is the top face of the volume
 * turned upside down (z' = nz - 1 - z, y and x unchanged), so the one surface detection, slab
 * extraction, registration, label transfer and training code run unchanged on a z-flipped view of
 * the volume, and the results are mapped back to the volume's own voxel indices where a caller
 * needs them (edsToVoxel, training voxel positions).
 *
 * Every petromap feature (Gaussian, derivatives, Hessian and structure-tensor eigenvalues, local
 * statistics) is the same under a z flip, so features of the flipped view at (nz - 1 - z, y, x)
 * are features of the volume at (z, y, x): a model trained on both faces predicts the volume as is.
 */
import type { MineralMap } from '../eds/types';
import { faceToVolume, faceView } from './face-view';
import { registerEdsToVolume, type RegisterOptions, type RegistrationWithSlab } from './register-eds';
import type { Face } from './types';
import type { VolumeSource } from './volume-source';

export { faceToVolume, faceView, flipZ, type Face } from './face-view';

/**
 * A registration of `map` onto one face. The registration runs unchanged on faceView(volume, face);
 * for the bottom face its surface, slab, slabToVoxel and edsToSlab stay in the frame of that
 * upside-down view (where the face is the top: what label transfer and training need), and
 * edsToVoxel is mapped to the volume's own voxel indices (what exports and viewers need).
 */
export async function registerEdsOnFace(volume: VolumeSource, map: MineralMap, face: Face, opts: RegisterOptions = {}): Promise<RegistrationWithSlab> {
  const r = await registerEdsToVolume(faceView(volume, face), map, opts);
  if (face === 'top') return r;
  return { ...r, face, edsToVoxel: faceToVolume(r.edsToVoxel, face, volume.meta.shape[0]) };
}
