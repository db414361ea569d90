/**
 * Before a registration placed by landmark pairs is accepted: pairs that disagree by more than a
 * few voxels (mis-clicked grains, a map at the wrong scale) would put every EDS label on the wrong
 * voxels. The user is asked once, with the figure, instead of the labels training silently.
 */

/** Landmark RMS (voxels) above which Accept asks first. */
export const LANDMARK_RMS_WARN_VOX = 3;

/** The question to ask before accepting, or null when there is nothing to ask. */
export function acceptQuestion(reg: { source?: string | null } | null | undefined, fit: { rms: number } | null | undefined, voxelUm: number): string | null {
  if (reg?.source !== 'landmarks' || !fit || !(fit.rms > LANDMARK_RMS_WARN_VOX)) return null;
  return `The landmark pairs disagree by ${fit.rms.toFixed(1)} voxels (${+(fit.rms * voxelUm).toPrecision(3)} µm) on average: ` +
    `the EDS labels would land that far from their grains. Check the red rows (a pair on different grains, or a wrong pixel or voxel size), ` +
    `or accept anyway?`;
}

/** true: go ahead with Accept (nothing to ask, or the user agreed). */
export function acceptOk(reg: Parameters<typeof acceptQuestion>[0], fit: Parameters<typeof acceptQuestion>[1], voxelUm: number): boolean {
  const q = acceptQuestion(reg, fit, voxelUm);
  return q === null || window.confirm(q);
}
