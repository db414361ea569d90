/**
 * A petromap store read the way prediction and the server read it: opened, then read whole through
 * the brick reader and through the store itself (the security harness's 'store' kind).
 */
export async function readStoreWhole(path: string): Promise<void> {
  const { openVolume } = await import('../../lib/volume/zarr-store-node');
  const { brickReader } = await import('../../lib/volume/zarr/brick-reader-node');
  const v = await openVolume(path);
  const box = { start: [0, 0, 0] as [number, number, number], shape: v.meta.shape };
  await brickReader(v).readBlock(box);
  await v.readBlock(box);
}
