/**
 * Before the automatic search: is the EDS map, seen at the scan's voxel size, a size the search
 * can cover? A map 20 mm wide on a scan whose file gave no voxel size (1 µm assumed) is 20000 x
 * 20000 voxels: the coarse search then grew past 6 GiB without reporting progress and could not be
 * cancelled. Refused here in words, with what to check, before any job starts.
 */
import { unprocessable } from '@/lib/errors';

/** Map pixels at the voxel size above which the automatic search is refused (8000 x 8000 voxels). */
export const MAX_MAP_VOXELS = 8000 * 8000;

const mm = (um: number) => (um >= 1000 ? `${+(um / 1000).toPrecision(3)} mm` : `${+um.toPrecision(3)} µm`);

/**
 * Throws a PetromapError (unprocessable) naming both sizes when the map at the volume's voxel
 * size exceeds MAX_MAP_VOXELS; `spacingAssumed`: the volume's file gave no voxel size.
 */
export function checkMapScale(map: { width: number; height: number; pixelSizeUm: number; name: string }, volume: { shape: readonly number[]; spacingUm: readonly number[]; spacingAssumed?: boolean }): void {
  const voxelUm = volume.spacingUm[2]!;
  const s = map.pixelSizeUm / voxelUm;
  const w = map.width * s, h = map.height * s;
  if (!(w * h > MAX_MAP_VOXELS)) return;
  const [, ny, nx] = volume.shape as [number, number, number];
  const times = Math.max(w / nx, h / ny);
  const why = volume.spacingAssumed
    ? `The scan's file gives no voxel size, so ${+voxelUm.toPrecision(4)} µm was assumed: on the Data step, delete the volume and upload it again with its voxel size.`
    : 'Check the voxel size of the scan and the pixel size of the map (Data step).';
  throw unprocessable(
    `The EDS map ${map.name} covers ${mm(map.width * map.pixelSizeUm)} × ${mm(map.height * map.pixelSizeUm)} (${map.width} × ${map.height} px at ${+map.pixelSizeUm.toPrecision(4)} µm/px), ` +
      `that is ${Math.round(w)} × ${Math.round(h)} voxels of ${+voxelUm.toPrecision(4)} µm: ${Math.round(times)} times as wide as the scan (${nx} × ${ny} voxels, ${mm(nx * voxelUm)} × ${mm(ny * voxelUm)}). ` +
      `The automatic search cannot cover a map that large. ${why} If both are right, crop the map to the scanned area, or place it with 3 landmark pairs.`,
  );
}
