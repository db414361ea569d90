/**
 * OME-Zarr (zarr v3) chunk store for volumes, via zarrita and @zarrita/storage's FileSystemStore.
 *
 * Layout of `<name>.ome.zarr/`:
 *   zarr.json            group; attributes.ome = OME-Zarr 0.5 multiscales (axes c,z,y,x in micrometres,
 *                        a scale + translation per level), attributes.petromap = { meta, chunk, ... }
 *   0/, 1/, ...          one array per pyramid level, shape (c, z, y, x), chunks (1, cz, cy, cx)
 *
 * Every file (chunks and metadata) is written to a temporary name in the same folder and renamed,
 * so an interrupted write leaves the previous content readable.
 *
 * The store is split by concern under ./zarr/: the atomic file store, the store attributes and
 * pyramid shapes, ZarrVolumeStore (reads, writes, who may write what), createVolume / openVolume,
 * buildPyramid and its downsampling, the streaming PyramidSlabWriter and writeDenseVolume. This
 * module is the public entry point and re-exports them.
 */
export { buildPyramid, type BuildPyramidOptions } from './zarr/build-pyramid-node';
export { createVolume, openVolume } from './zarr/create-volume-node';
export { downsample2x } from './zarr/downsample-2x';
export { PyramidSlabWriter } from './zarr/pyramid-slab-writer';
export {
  DEFAULT_CHUNK,
  pyramidShapes,
  type Compression,
  type CreateVolumeOptions,
  type Downsample,
  type PetromapStoreAttrs,
} from './zarr/store-attrs';
export { writeDenseVolume } from './zarr/write-dense-volume-node';
export { ZarrVolumeStore } from './zarr/zarr-volume-store-node';

